/*-------------------------------------------------------------------------
 *
 * gen_node.c
 *	  promscale-ha-gen --profile node: what --instances node_exporters publish.
 *
 * The data set: what one node_exporter (plus a few Go client metrics and
 * three request histograms) publishes per instance, about 550 series: CPU
 * seconds per cpu and mode, memory, network, disk, filesystem, hwmon, Go
 * runtime, three histograms.  A row of node_rows is a metric family; its
 * series are the cross product of its label dimensions, or, for a "zip" row,
 * their i-th values taken together.  Levels and rates are in integer units;
 * a sample is (integer * quantum) / div, so CPU seconds have two decimals,
 * temperatures one, bytes none, nanosecond durations and histogram sums full
 * precision, as the exporter reports them.
 *
 * Sample k of a call is scrape number (--start-ms - 2020-01-01) /
 * --interval-ms + k, and every value is a pure function of (seed, series,
 * scrape number) computed in O(1): counters are rate times the scrapes since
 * the instance's last (simulated) reboot, bent by a daily cycle and jittered
 * per scrape, gauges are smooth noise around a level.  So a later --start-ms
 * continues the same series.  --values random gives uniform doubles instead
 * (the worst case for a codec).  The timestamps (and their --jitter-ms, the
 * same for every series of one instance and scrape) are gen.c's.
 *
 * node_series is filled once by gen_node_setup and read-only afterwards.
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "gen_node.h"

/* How the values of a row behave over time. */
typedef enum
{
	NK_CONST,					/* fixed level, per series */
	NK_COUNTER,					/* rises by about rate per scrape, resets at reboot */
	NK_CPU,						/* NK_COUNTER with the rate of its mode (centiseconds) */
	NK_GAUGE,					/* wanders around a level, slowly and per scrape */
	NK_BOOT,					/* the time of the instance's last reboot, seconds */
	NK_TIME,					/* the scrape time in seconds with nanoseconds */
	NK_BUCKET,					/* cumulative histogram bucket of histogram hist */
	NK_HSUM,					/* _sum of histogram hist: a full-precision double */
	NK_HCOUNT					/* _count of histogram hist */
} NodeKind;

/* One metric family of the node profile; see gen_node_value for what the numbers mean. */
typedef struct NodeRow
{
	const char *name;
	NodeKind	kind;
	const LabelDim *dims;
	int			ndims;
	bool		zip;
	double		lo;				/* level or rate per scrape: drawn from [lo, hi] */
	double		hi;
	double		var;			/* counter: jitter of an increment; gauge: slow wander */
	double		fine;			/* gauge: noise per scrape; histogram: mean latency (s) */
	double		quantum;		/* values are multiples of this many units */
	double		div;			/* units per reported unit */
	int			hist;			/* histogram number, for NK_BUCKET/NK_HSUM/NK_HCOUNT */
} NodeRow;

/* One series of an instance: its row and the value index of each dimension. */
typedef struct NodeSeries
{
	const NodeRow *row;
	int			i1;
	int			i2;
	int			i3;
} NodeSeries;

static const char *const n_guest[] = {"user", "nice"};
static const char *const n_netdevs[] = {"eth0", "eth1", "lo", "docker0"};
static const char *const n_disks[] = {"nvme0n1", "sda", "dm-0"};
static const char *const n_fsdevs[] = {"/dev/nvme0n1p2", "/dev/nvme0n1p1", "/dev/sda1", "/dev/mapper/vg0-data", "tmpfs", "tmpfs"};
static const char *const n_fstypes[] = {"ext4", "vfat", "xfs", "ext4", "tmpfs", "tmpfs"};
static const char *const n_mounts[] = {"/", "/boot/efi", "/var/lib/docker", "/data", "/run", "/run/user/1000"};
static const char *const n_chips[] = {"platform_coretemp_0", "platform_coretemp_0", "platform_coretemp_0", "platform_coretemp_0", "platform_coretemp_0", "pci0000:00_0000:00:1d_0", "thermal_thermal_zone0", "acpitz"};
static const char *const n_sensors[] = {"temp1", "temp2", "temp3", "temp4", "temp5", "temp1", "temp0", "temp1"};
static const char *const n_collectors[] = {
	"arp", "bcache", "bonding", "btrfs", "conntrack", "cpu", "cpufreq", "diskstats", "dmi", "edac",
	"entropy", "fibrechannel", "filefd", "filesystem", "hwmon", "infiniband", "ipvs", "loadavg",
	"mdadm", "meminfo", "netclass", "netdev", "netstat", "nfs", "nfsd", "nvme", "os", "powersupplyclass",
	"pressure", "rapl", "schedstat", "selinux", "sockstat", "softnet", "stat", "textfile",
	"thermal_zone", "time", "timex", "vmstat"
};
static const char *const n_codes[] = {"200", "500", "503"};
static const char *const n_causes[] = {"encoding", "gathering"};
static const char *const n_handlers[] = {"/metrics", "/api/v1/query", "/healthz"};
static const char *const n_sysname[] = {"Linux"};
static const char *const n_release[] = {"6.1.0-18-amd64"};
static const char *const n_machine[] = {"x86_64"};
static const char *const n_osid[] = {"debian"};
static const char *const n_osver[] = {"12"};
static const char *const n_goversion[] = {"go1.21.6"};
static const char *const n_version[] = {"1.7.0"};

static const LabelDim nd_cpu[] = {{"cpu", 8, gen_cpus}};
static const LabelDim nd_cpu_mode[] = {{"cpu", 8, gen_cpus}, {"mode", 8, gen_modes}};
static const LabelDim nd_cpu_guest[] = {{"cpu", 8, gen_cpus}, {"mode", 2, n_guest}};
static const LabelDim nd_net[] = {{"device", 4, n_netdevs}};
static const LabelDim nd_disk[] = {{"device", 3, n_disks}};
static const LabelDim nd_fs[] = {{"device", 6, n_fsdevs}, {"fstype", 6, n_fstypes}, {"mountpoint", 6, n_mounts}};
static const LabelDim nd_hwmon[] = {{"chip", 8, n_chips}, {"sensor", 8, n_sensors}};
static const LabelDim nd_collector[] = {{"collector", (int) lengthof(n_collectors), n_collectors}};
static const LabelDim nd_quantile[] = {{"quantile", 5, gen_quantiles}};
static const LabelDim nd_code200[] = {{"code", 1, n_codes}};
static const LabelDim nd_code5xx[] = {{"code", 2, n_codes + 1}};
static const LabelDim nd_cause[] = {{"cause", 2, n_causes}};
static const LabelDim nd_handler[] = {{"handler", 3, n_handlers}};
static const LabelDim nd_handler_le[] = {{"handler", 3, n_handlers}, {"le", 12, gen_les}};
static const LabelDim nd_uname[] = {{"sysname", 1, n_sysname}, {"release", 1, n_release}, {"machine", 1, n_machine}};
static const LabelDim nd_os[] = {{"id", 1, n_osid}, {"version_id", 1, n_osver}};
static const LabelDim nd_build[] = {{"goversion", 1, n_goversion}, {"version", 1, n_version}};

/* node_cpu_seconds_total by mode: rate range (centiseconds per scrape), jitter, daily cycle. */
static const double cpu_mode_rates[8][4] = {
	{1440, 1495, 0.01, 0.01},	/* idle: about 14.9 s per 15 s */
	{5, 60, 0.5, 0.3}, {3, 30, 0.5, 0.3}, {0, 5, 0.9, 0.09},	/* user, system, iowait */
	{0, 1, 0.9, 0.09}, {1, 5, 0.9, 0.09}, {0, 2, 0.9, 0.09}, {0, 0.5, 0.9, 0.09}	/* irq, softirq, steal, nice */
};

#define KI		1024.0
#define GI		1073741824.0
#define NR(n, k, lo, hi, var, fine, q, div) {n, k, NULL, 0, false, lo, hi, var, fine, q, div, 0}
#define ND(n, k, d, lo, hi, var, fine, q, div) {n, k, d, (int) lengthof(d), false, lo, hi, var, fine, q, div, 0}
#define NZ(n, k, d, lo, hi, var, fine, q, div) {n, k, d, (int) lengthof(d), true, lo, hi, var, fine, q, div, 0}
#define NH(n, k, d, lo, hi, var, mean, h) {n, k, d, (int) lengthof(d), false, lo, hi, var, mean, 1, 1, h}
#define NH0(n, k, lo, hi, var, mean, h) {n, k, NULL, 0, false, lo, hi, var, mean, 1, 1, h}
#define MEMG(n, lo, hi, var) NR("node_memory_" n "_bytes", NK_GAUGE, lo, hi, var, 0.002, KI, 1)
#define MEMC(n, lo, hi) NR("node_memory_" n "_bytes", NK_CONST, lo, hi, 0, 0, KI, 1)
#define NSTAT(n, lo, hi) NR("node_netstat_" n, NK_COUNTER, lo, hi, 0.6, 0, 1, 1)
#define SOCK(n, lo, hi) NR("node_sockstat_" n, NK_GAUGE, lo, hi, 0.3, 0.02, 1, 1)
#define GOG(n, lo, hi) NR("go_memstats_" n, NK_GAUGE, lo, hi, 0.3, 0.05, 8, 1)

static const NodeRow node_rows[] = {
	ND("node_cpu_seconds_total", NK_CPU, nd_cpu_mode, 0, 0, 0, 0, 1, 100),
	ND("node_cpu_guest_seconds_total", NK_CONST, nd_cpu_guest, 0, 0, 0, 0, 1, 100),
	NR("node_load1", NK_GAUGE, 5, 300, 0.6, 0.1, 1, 100),
	NR("node_load5", NK_GAUGE, 5, 300, 0.5, 0.03, 1, 100),
	NR("node_load15", NK_GAUGE, 5, 300, 0.4, 0.01, 1, 100),
	MEMC("MemTotal", 8 * GI, 64 * GI), MEMG("MemFree", 0.5 * GI, 8 * GI, 0.2),
	MEMG("MemAvailable", 2 * GI, 32 * GI, 0.1), MEMG("Buffers", 0.1 * GI, 1 * GI, 0.05),
	MEMG("Cached", 1 * GI, 24 * GI, 0.1), MEMG("SwapCached", 0, 64 * 1024 * KI, 0.3),
	MEMG("Active", 1 * GI, 16 * GI, 0.1), MEMG("Inactive", 1 * GI, 16 * GI, 0.1),
	MEMG("Active_anon", 0.5 * GI, 8 * GI, 0.1), MEMG("Inactive_anon", 0.1 * GI, 2 * GI, 0.1),
	MEMG("Active_file", 0.5 * GI, 8 * GI, 0.1), MEMG("Inactive_file", 0.5 * GI, 8 * GI, 0.1),
	MEMC("Unevictable", 0, 64 * 1024 * KI), MEMC("Mlocked", 0, 32 * 1024 * KI),
	MEMC("SwapTotal", 0, 8 * GI), MEMG("SwapFree", 0, 8 * GI, 0.01),
	MEMG("Dirty", 0, 64 * 1024 * KI, 0.8), MEMG("Writeback", 0, 256 * KI, 0.9),
	MEMG("AnonPages", 0.5 * GI, 8 * GI, 0.1), MEMG("Mapped", 0.1 * GI, 2 * GI, 0.05),
	MEMG("Shmem", 0.01 * GI, 1 * GI, 0.05), MEMG("KReclaimable", 0.1 * GI, 2 * GI, 0.05),
	MEMG("Slab", 0.2 * GI, 3 * GI, 0.05), MEMG("SReclaimable", 0.1 * GI, 2 * GI, 0.05),
	MEMG("SUnreclaim", 0.1 * GI, 1 * GI, 0.02), MEMG("KernelStack", 8 * 1024 * KI, 64 * 1024 * KI, 0.05),
	MEMG("PageTables", 16 * 1024 * KI, 256 * 1024 * KI, 0.05), MEMC("NFS_Unstable", 0, 0),
	MEMC("Bounce", 0, 0), MEMC("WritebackTmp", 0, 0), MEMC("CommitLimit", 8 * GI, 40 * GI),
	MEMG("Committed_AS", 2 * GI, 40 * GI, 0.1), MEMC("VmallocTotal", 34359738367.0 * KI, 34359738367.0 * KI),
	MEMG("VmallocUsed", 32 * 1024 * KI, 128 * 1024 * KI, 0.02), MEMC("VmallocChunk", 0, 0),
	MEMC("Percpu", 4 * 1024 * KI, 32 * 1024 * KI), MEMC("HardwareCorrupted", 0, 0),
	MEMG("AnonHugePages", 0, 2 * GI, 0.1), MEMC("ShmemHugePages", 0, 0), MEMC("ShmemPmdMapped", 0, 0),
	MEMC("HugePages_Total", 0, 0), MEMC("HugePages_Free", 0, 0), MEMC("HugePages_Rsvd", 0, 0),
	MEMC("HugePages_Surp", 0, 0), MEMC("Hugepagesize", 2048 * KI, 2048 * KI),
	MEMC("DirectMap4k", 256 * 1024 * KI, 1 * GI), MEMC("DirectMap2M", 4 * GI, 32 * GI),
	MEMC("DirectMap1G", 0, 32 * GI),
	ND("node_network_receive_bytes_total", NK_COUNTER, nd_net, 1e3, 5e7, 0.6, 0, 1, 1),
	ND("node_network_transmit_bytes_total", NK_COUNTER, nd_net, 1e3, 5e7, 0.6, 0, 1, 1),
	ND("node_network_receive_packets_total", NK_COUNTER, nd_net, 10, 4e4, 0.6, 0, 1, 1),
	ND("node_network_transmit_packets_total", NK_COUNTER, nd_net, 10, 4e4, 0.6, 0, 1, 1),
	ND("node_network_receive_errs_total", NK_COUNTER, nd_net, 0, 0.01, 0.6, 0, 1, 1),
	ND("node_network_transmit_errs_total", NK_COUNTER, nd_net, 0, 0.01, 0.6, 0, 1, 1),
	ND("node_network_receive_drop_total", NK_COUNTER, nd_net, 0, 0.2, 0.6, 0, 1, 1),
	ND("node_network_transmit_drop_total", NK_COUNTER, nd_net, 0, 0.05, 0.6, 0, 1, 1),
	ND("node_network_receive_multicast_total", NK_COUNTER, nd_net, 0, 2, 0.6, 0, 1, 1),
	ND("node_network_up", NK_CONST, nd_net, 1, 1, 0, 0, 1, 1),
	ND("node_network_mtu_bytes", NK_CONST, nd_net, 1500, 1500, 0, 0, 1, 1),
	ND("node_network_speed_bytes", NK_CONST, nd_net, 125000000, 1250000000, 0, 0, 125000000, 1),
	ND("node_disk_reads_completed_total", NK_COUNTER, nd_disk, 0, 500, 0.6, 0, 1, 1),
	ND("node_disk_writes_completed_total", NK_COUNTER, nd_disk, 10, 2000, 0.6, 0, 1, 1),
	ND("node_disk_reads_merged_total", NK_COUNTER, nd_disk, 0, 50, 0.6, 0, 1, 1),
	ND("node_disk_writes_merged_total", NK_COUNTER, nd_disk, 0, 500, 0.6, 0, 1, 1),
	ND("node_disk_discards_completed_total", NK_COUNTER, nd_disk, 0, 0.1, 0.6, 0, 1, 1),
	ND("node_disk_read_bytes_total", NK_COUNTER, nd_disk, 0, 2e7, 0.6, 0, 512, 1),
	ND("node_disk_written_bytes_total", NK_COUNTER, nd_disk, 1e5, 5e7, 0.6, 0, 512, 1),
	ND("node_disk_io_time_seconds_total", NK_COUNTER, nd_disk, 10, 3000, 0.6, 0, 1, 1000),
	ND("node_disk_io_time_weighted_seconds_total", NK_COUNTER, nd_disk, 10, 9000, 0.6, 0, 1, 1000),
	ND("node_disk_read_time_seconds_total", NK_COUNTER, nd_disk, 0, 1000, 0.6, 0, 1, 1000),
	ND("node_disk_write_time_seconds_total", NK_COUNTER, nd_disk, 10, 5000, 0.6, 0, 1, 1000),
	ND("node_disk_io_now", NK_GAUGE, nd_disk, 0, 3, 0.9, 0.5, 1, 1),
	NZ("node_filesystem_avail_bytes", NK_GAUGE, nd_fs, 1 * GI, 400 * GI, 0.02, 0.0001, 4096, 1),
	NZ("node_filesystem_free_bytes", NK_GAUGE, nd_fs, 1 * GI, 420 * GI, 0.02, 0.0001, 4096, 1),
	NZ("node_filesystem_size_bytes", NK_CONST, nd_fs, 1 * GI, 500 * GI, 0, 0, 4096, 1),
	NZ("node_filesystem_files", NK_CONST, nd_fs, 65536, 33554432, 0, 0, 1, 1),
	NZ("node_filesystem_files_free", NK_GAUGE, nd_fs, 60000, 30000000, 0.01, 0.00001, 1, 1),
	NZ("node_filesystem_readonly", NK_CONST, nd_fs, 0, 0, 0, 0, 1, 1),
	NZ("node_filesystem_device_error", NK_CONST, nd_fs, 0, 0, 0, 0, 1, 1),
	NZ("node_hwmon_temp_celsius", NK_GAUGE, nd_hwmon, 350, 650, 0.08, 0.01, 1, 10),
	NZ("node_hwmon_temp_crit_celsius", NK_CONST, nd_hwmon, 100, 105, 0, 0, 1, 1),
	NZ("node_hwmon_temp_max_celsius", NK_CONST, nd_hwmon, 80, 85, 0, 0, 1, 1),
	NR("node_boot_time_seconds", NK_BOOT, 0, 0, 0, 0, 1, 1),
	NR("node_time_seconds", NK_TIME, 0, 0, 0, 0, 1, 1),
	NZ("node_uname_info", NK_CONST, nd_uname, 1, 1, 0, 0, 1, 1),
	NZ("node_os_info", NK_CONST, nd_os, 1, 1, 0, 0, 1, 1),
	NZ("node_exporter_build_info", NK_CONST, nd_build, 1, 1, 0, 0, 1, 1),
	NR("node_entropy_available_bits", NK_CONST, 256, 256, 0, 0, 1, 1),
	NR("node_procs_running", NK_GAUGE, 1, 6, 0.5, 0.5, 1, 1),
	NR("node_procs_blocked", NK_GAUGE, 0, 1, 0.9, 0.5, 1, 1),
	NR("node_context_switches_total", NK_COUNTER, 1e4, 2e6, 0.5, 0, 1, 1),
	NR("node_intr_total", NK_COUNTER, 1e4, 1e6, 0.5, 0, 1, 1),
	NR("node_forks_total", NK_COUNTER, 10, 800, 0.6, 0, 1, 1),
	NR("node_filefd_allocated", NK_GAUGE, 1000, 20000, 0.1, 0.01, 1, 1),
	NR("node_filefd_maximum", NK_CONST, 9223372036854775807.0, 9223372036854775807.0, 0, 0, 1, 1),
	NR("node_nf_conntrack_entries", NK_GAUGE, 100, 50000, 0.3, 0.02, 1, 1),
	NR("node_nf_conntrack_entries_limit", NK_CONST, 262144, 262144, 0, 0, 1, 1),
	NR("node_vmstat_pgpgin", NK_COUNTER, 0, 4e4, 0.6, 0, 1, 1),
	NR("node_vmstat_pgpgout", NK_COUNTER, 100, 1e5, 0.6, 0, 1, 1),
	NR("node_vmstat_pswpin", NK_COUNTER, 0, 0.5, 0.6, 0, 1, 1),
	NR("node_vmstat_pswpout", NK_COUNTER, 0, 0.5, 0.6, 0, 1, 1),
	NR("node_vmstat_pgfault", NK_COUNTER, 1e4, 5e6, 0.6, 0, 1, 1),
	NR("node_vmstat_pgmajfault", NK_COUNTER, 0, 20, 0.6, 0, 1, 1),
	NR("node_vmstat_oom_kill", NK_COUNTER, 0, 0.0005, 0.6, 0, 1, 1),
	NSTAT("Tcp_ActiveOpens", 1, 500), NSTAT("Tcp_PassiveOpens", 1, 500),
	NR("node_netstat_Tcp_CurrEstab", NK_GAUGE, 5, 2000, 0.3, 0.02, 1, 1),
	NSTAT("Tcp_InErrs", 0, 0.1), NSTAT("Tcp_InSegs", 100, 1e5), NSTAT("Tcp_OutSegs", 100, 1e5),
	NSTAT("Tcp_RetransSegs", 0, 50), NSTAT("Tcp_OutRsts", 0, 100), NSTAT("Udp_InDatagrams", 0, 2000),
	NSTAT("Udp_OutDatagrams", 0, 2000), NSTAT("Udp_InErrors", 0, 0.05), NSTAT("Udp_NoPorts", 0, 5),
	NSTAT("TcpExt_ListenDrops", 0, 0.01), NSTAT("TcpExt_ListenOverflows", 0, 0.01),
	NSTAT("TcpExt_SyncookiesSent", 0, 0.01), NSTAT("TcpExt_TCPTimeouts", 0, 20),
	NSTAT("Icmp_InMsgs", 0, 10), NSTAT("Icmp_OutMsgs", 0, 10),
	NR("node_netstat_Ip_Forwarding", NK_CONST, 1, 1, 0, 0, 1, 1),
	NSTAT("IpExt_InOctets", 1e4, 5e7), NSTAT("IpExt_OutOctets", 1e4, 5e7),
	SOCK("TCP_alloc", 10, 3000), SOCK("TCP_inuse", 5, 2500), SOCK("TCP_orphan", 0, 5),
	SOCK("TCP_tw", 0, 2000), SOCK("TCP_mem", 1, 500), SOCK("UDP_inuse", 1, 50), SOCK("UDP_mem", 0, 20),
	SOCK("sockets_used", 100, 5000), SOCK("FRAG_inuse", 0, 0),
	NR("node_sockstat_TCP_mem_bytes", NK_GAUGE, 4096, 2048000, 0.3, 0.02, 4096, 1),
	ND("node_schedstat_running_seconds_total", NK_COUNTER, nd_cpu, 1e8, 1.4e10, 0.5, 0, 1, 1e9),
	ND("node_schedstat_waiting_seconds_total", NK_COUNTER, nd_cpu, 1e6, 1e9, 0.5, 0, 1, 1e9),
	ND("node_schedstat_timeslices_total", NK_COUNTER, nd_cpu, 100, 50000, 0.5, 0, 1, 1),
	ND("node_softnet_processed_total", NK_COUNTER, nd_cpu, 10, 20000, 0.6, 0, 1, 1),
	ND("node_softnet_dropped_total", NK_CONST, nd_cpu, 0, 0, 0, 0, 1, 1),
	ND("node_softnet_times_squeezed_total", NK_COUNTER, nd_cpu, 0, 0.2, 0.6, 0, 1, 1),
	ND("node_scrape_collector_duration_seconds", NK_GAUGE, nd_collector, 2e4, 5e7, 0.5, 0.4, 1, 1e9),
	ND("node_scrape_collector_success", NK_CONST, nd_collector, 1, 1, 0, 0, 1, 1),
	NR("go_goroutines", NK_GAUGE, 6, 12, 0.3, 0.1, 1, 1),
	NR("go_threads", NK_GAUGE, 6, 14, 0.1, 0.02, 1, 1),
	ND("go_gc_duration_seconds", NK_GAUGE, nd_quantile, 2e4, 2e6, 0.4, 0.2, 1, 1e9),
	NH0("go_gc_duration_seconds_sum", NK_HSUM, 0.05, 2, 0.6, 0.0002, 1),
	NH0("go_gc_duration_seconds_count", NK_HCOUNT, 0.05, 2, 0.6, 0.0002, 1),
	NR("go_info", NK_CONST, 1, 1, 0, 0, 1, 1),
	GOG("alloc_bytes", 1e6, 1e7), NR("go_memstats_alloc_bytes_total", NK_COUNTER, 1e5, 3e7, 0.5, 0, 8, 1),
	GOG("sys_bytes", 1e7, 4e7), GOG("heap_alloc_bytes", 1e6, 1e7), GOG("heap_idle_bytes", 1e6, 2e7),
	GOG("heap_inuse_bytes", 1e6, 1e7), GOG("heap_objects", 5e3, 8e4), GOG("heap_released_bytes", 1e6, 1e7),
	GOG("heap_sys_bytes", 1e7, 3e7), NR("go_memstats_mallocs_total", NK_COUNTER, 1e3, 3e5, 0.5, 0, 1, 1),
	NR("go_memstats_frees_total", NK_COUNTER, 1e3, 3e5, 0.5, 0, 1, 1),
	NR("go_memstats_lookups_total", NK_CONST, 0, 0, 0, 0, 1, 1),
	GOG("next_gc_bytes", 4e6, 2e7), GOG("stack_inuse_bytes", 5e5, 2e6), GOG("stack_sys_bytes", 5e5, 2e6),
	GOG("mspan_inuse_bytes", 5e4, 3e5), GOG("mcache_inuse_bytes", 4800, 19200),
	GOG("buck_hash_sys_bytes", 1.4e6, 1.6e6), GOG("gc_sys_bytes", 3e6, 8e6), GOG("other_sys_bytes", 5e5, 2e6),
	NR("process_cpu_seconds_total", NK_COUNTER, 1, 30, 0.6, 0, 1, 100),
	NR("process_resident_memory_bytes", NK_GAUGE, 1e7, 6e7, 0.1, 0.02, 4096, 1),
	NR("process_virtual_memory_bytes", NK_GAUGE, 7e8, 2e9, 0.02, 0.001, 4096, 1),
	NR("process_virtual_memory_max_bytes", NK_CONST, 18446744073709551615.0, 18446744073709551615.0, 0, 0, 1, 1),
	NR("process_open_fds", NK_GAUGE, 8, 20, 0.2, 0.1, 1, 1),
	NR("process_max_fds", NK_CONST, 1048576, 1048576, 0, 0, 1, 1),
	NR("process_start_time_seconds", NK_BOOT, 500, 3000, 0, 0, 1, 100),
	ND("promhttp_metric_handler_requests_total", NK_COUNTER, nd_code200, 1, 1, 0, 0, 1, 1),
	ND("promhttp_metric_handler_requests_total", NK_CONST, nd_code5xx, 0, 0, 0, 0, 1, 1),
	NR("promhttp_metric_handler_requests_in_flight", NK_CONST, 1, 1, 0, 0, 1, 1),
	ND("promhttp_metric_handler_errors_total", NK_CONST, nd_cause, 0, 0, 0, 0, 1, 1),
	NH("http_request_duration_seconds_bucket", NK_BUCKET, nd_handler_le, 1, 60, 0.6, 0.02, 2),
	NH("http_request_duration_seconds_sum", NK_HSUM, nd_handler, 1, 60, 0.6, 0.02, 2),
	NH("http_request_duration_seconds_count", NK_HCOUNT, nd_handler, 1, 60, 0.6, 0.02, 2),
};

#define NODE_MAX_SERIES	1024
#define NODE_KEY_HIST	(UINT64_C(1) << 20)	/* keys of histograms, above any series index */
#define NODE_KEY_BOOT	(UINT64_C(1) << 21)	/* key of the instance's reboot schedule */

static NodeSeries node_series[NODE_MAX_SERIES];
static int	node_nseries;

/* Expand node_rows into node_series once; the order is fixed, so series j is the same everywhere. */
void
gen_node_setup(void)
{
	if (node_nseries > 0)
		return;
	for (size_t r = 0; r < lengthof(node_rows); r++)
	{
		const NodeRow *row = &node_rows[r];
		int			n1 = row->ndims > 0 ? row->dims[0].nvalues : 1;
		int			n2 = row->ndims > 1 && !row->zip ? row->dims[1].nvalues : 1;

		for (int i1 = 0; i1 < n1; i1++)
			for (int i2 = 0; i2 < n2; i2++)
			{
				NodeSeries *ns = &node_series[node_nseries++];

				ns->row = row;
				ns->i1 = i1;
				ns->i2 = row->zip ? i1 : i2;
			}
	}
}

/* Series per instance: node_series[0 .. gen_node_nseries() - 1]. */
int
gen_node_nseries(void)
{
	return node_nseries;
}

/* True if some row of node_rows has a label dimension called name (len bytes). */
bool
gen_node_emits_label(const char *name, size_t len)
{
	for (size_t r = 0; r < lengthof(node_rows); r++)
		for (int d = 0; d < node_rows[r].ndims; d++)
			if (strlen(node_rows[r].dims[d].name) == len && memcmp(node_rows[r].dims[d].name, name, len) == 0)
				return true;
	return false;
}

/* A uniform double in [0, 1) from the stream (seed, key, salt, n). */
static double
node_unit(const Options *o, uint64_t key, int salt, int64_t n)
{
	Rng			r = gen_rng_at(o->seed, key ^ ((uint64_t) salt << 56), (uint64_t) n);

	return (double) (gen_rng_next(&r) >> 11) * 0x1p-53;
}

/* The next uniform double in [0, 1) of r. */
static double
rng_unit(Rng *r)
{
	return (double) (gen_rng_next(r) >> 11) * 0x1p-53;
}

/* Smooth noise in [-1, 1]: random knots every period steps, smoothstep in between. */
static double
node_wander(const Options *o, uint64_t key, int64_t n, int64_t period)
{
	int64_t		k = floor_div(n, period);
	double		f = (double) (n - k * period) / (double) period;
	double		a = 2 * node_unit(o, key, NS_WANDER, k) - 1;
	double		b = 2 * node_unit(o, key, NS_WANDER, k + 1) - 1;

	return a + (b - a) * f * f * (3 - 2 * f);
}


/*
 * Scrapes since the last reboot of instance inst at scrape n: every instance
 * reboots every 20-60 days, so counters reset now and then as real ones do.
 */
static int64_t
node_uptime(const Options *o, uint64_t inst, int64_t n, int64_t per_day)
{
	Rng			r = gen_rng_at(o->seed, inst << 24 | NODE_KEY_BOOT, NS_PARAMS);
	int64_t		period = per_day * (20 + (int64_t) (gen_rng_next(&r) % 41));
	int64_t		phase = (int64_t) (gen_rng_next(&r) % (uint64_t) period);
	int64_t		m = (n + phase) % period;

	return m < 0 ? m + period : m;
}

/* Amplitude of the daily cycle of a counter whose increments jitter by var: var + day < 1. */
static double
node_day(double var)
{
	return var < 0.7 ? 0.3 : 0.95 * (1 - var);
}

/*
 * Counter in quanta at scrape n: rate per scrape times the scrapes since the
 * reboot, bent by a daily cycle of amplitude day and with per-scrape jitter
 * var; increments stay >= 0 because var + day <= 1.
 */
static double
node_counter(const Options *o, uint64_t key, uint64_t inst, int64_t n, double rate,
			 double var, double day, double phi, int64_t per_day)
{
	int64_t		up = node_uptime(o, inst, n, per_day);
	double		w = 2 * M_PI / (double) per_day;
	double		x = (double) up + day / w * (sin(w * (double) n + phi) - sin(w * (double) (n - up) + phi));

	return floor(rate * (x + var * node_unit(o, key, NS_NOISE, n)));
}

/* The value of series j of instance inst at scrape n (timestamp ts) in the node profile. */
double
gen_node_value(const Options *o, uint64_t inst, int j, int64_t n, int64_t ts)
{
	const NodeSeries *ns = &node_series[j];
	const NodeRow *row = ns->row;
	uint64_t	key = inst << 24 | (row->hist ? NODE_KEY_HIST | (uint64_t) row->hist << 8 | (uint64_t) ns->i1
									: (uint64_t) j);
	Rng			p = gen_rng_at(o->seed, key, NS_PARAMS);
	double		level = row->lo + (row->hi - row->lo) * rng_unit(&p);
	double		phi = 2 * M_PI * rng_unit(&p);
	int64_t		per_day = INT64_C(86400000) / o->step_ms > 0 ? INT64_C(86400000) / o->step_ms : 1;
	double		day = node_day(row->var);
	double		c,
				mean;

	if (o->values == V_RANDOM)
		return node_unit(o, key, NS_RANDOM, n);
	switch (row->kind)
	{
		case NK_CONST:
			return floor(level / row->quantum + 0.5) * row->quantum / row->div;
		case NK_COUNTER:
			return node_counter(o, key, inst, n, level / row->quantum, row->var, day, phi, per_day)
				* row->quantum / row->div;
		case NK_CPU:
			{
				const double *m = cpu_mode_rates[ns->i2];

				level = m[0] + (m[1] - m[0]) * rng_unit(&p);
				return node_counter(o, key, inst, n, level, m[2], m[3], phi, per_day)
					/ row->div;
			}
		case NK_GAUGE:
			c = level * (1 + row->var * node_wander(o, key, n, 20 + (int64_t) (gen_rng_next(&p) % 380))
						 + row->fine * (2 * node_unit(o, key, NS_NOISE, n) - 1));
			return floor((c > 0 ? c : 0) / row->quantum + 0.5) * row->quantum / row->div;
		case NK_BOOT:
			c = (double) floor_div((COUNTER_EPOCH_MS + (n - node_uptime(o, inst, n, per_day)) * o->step_ms)
								   * (int64_t) row->div, 1000);
			return (c + floor(level)) / row->div;
		case NK_TIME:
			return (double) (ts * 1000000 + (int64_t) (node_unit(o, key, NS_NOISE, n) * 1e6)) / 1e9;
		case NK_BUCKET:
		case NK_HSUM:
		case NK_HCOUNT:
		default:
			/* one count per histogram: _count, cumulative buckets and _sum derive from it */
			mean = row->fine * (0.5 + rng_unit(&p));
			c = node_counter(o, key, inst, n, level, row->var, day, phi, per_day);
			if (row->kind == NK_HCOUNT)
				return c;
			if (row->kind == NK_HSUM)
				return mean * (c + 0.5 * node_unit(o, key, NS_SUM, (int64_t) c));
			return floor(c * (1 - exp(-strtod(gen_les[ns->i2], NULL) / mean)));
	}
}

/* Fill ts with the labels of series j of instance inst (instance text goes to text). */
void
gen_node_labels(const Options *o, Pool *pool, uint64_t inst, int j, Prometheus__TimeSeries *ts,
				  char *text)
{
	const NodeSeries *ns = &node_series[j];
	const NodeRow *row = ns->row;
	int			cap = row->ndims + 5 + o->nuser;
	Prometheus__Label *labels = gen_pool_alloc(pool, (size_t) cap * sizeof(Prometheus__Label));
	int			n = 0;

	ts->labels = gen_pool_alloc(pool, (size_t) cap * sizeof(Prometheus__Label *));
	gen_set_label(&labels[n++], "__name__", row->name);
	for (int d = 0; d < row->ndims; d++)
		gen_set_label(&labels[n++], row->dims[d].name,
				  row->dims[d].values[d == 0 ? ns->i1 : ns->i2]);
	snprintf(text, 32, "10.%" PRIu64 ".%" PRIu64 ".%" PRIu64 ":9100",
			 1 + inst / 65024, inst % 65024 / 254, inst % 254 + 1);
	gen_set_label(&labels[n++], "instance", text);
	gen_finish_labels(o, ts, labels, n);
}
