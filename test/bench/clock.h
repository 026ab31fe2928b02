/*-------------------------------------------------------------------------
 *
 * clock.h
 *	  The two clocks of the benchmark clients (pha_bench.c, pha_query.c):
 *	  wall time and the CPU time of a process on this machine.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_BENCH_CLOCK_H
#define PHA_BENCH_CLOCK_H

#include <stdio.h>
#include <time.h>

/* Monotonic wall time in nanoseconds. */
static inline long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * Nanoseconds process pid has spent on a CPU (first field of
 * /proc/PID/schedstat), or -1 when it cannot be read.
 */
static inline long long
proc_cpu_ns(int pid)
{
	char		path[64];
	FILE	   *f;
	long long	ns = -1;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lld", &ns) != 1)
		ns = -1;
	fclose(f);
	return ns;
}

#endif							/* PHA_BENCH_CLOCK_H */
