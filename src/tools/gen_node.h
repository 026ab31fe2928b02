/*-------------------------------------------------------------------------
 *
 * gen_node.h
 *	  promscale-ha-gen --profile node: node_exporter-like series and values.
 *
 * An instance publishes gen_node_nseries() series, numbered 0.. in a fixed
 * order; series i of a request is series i % gen_node_nseries() of instance
 * i / gen_node_nseries().  Values are pure functions of (--seed, instance,
 * series, scrape number), so a later --start-ms continues the same series.
 * See gen_node.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef GEN_NODE_H
#define GEN_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gen.h"

/* Expand the profile's table into its series; call once before anything below (idempotent). */
extern void gen_node_setup(void);

/* Series per instance (after gen_node_setup; 0 before). */
extern int	gen_node_nseries(void);

/*
 * The value of series j of instance inst at scrape n (counted from
 * COUNTER_EPOCH_MS in steps of o->step_ms; ts is its timestamp).  With
 * --values random a uniform double in [0, 1) instead.
 */
extern double gen_node_value(const Options *o, uint64_t inst, int j, int64_t n, int64_t ts);

/*
 * Fill ts with the labels of series j of instance inst, sorted by name; the
 * instance label's text goes to the 32 bytes at text, the arrays to pool.
 */
extern void gen_node_labels(const Options *o, Pool *pool, uint64_t inst, int j,
							Prometheus__TimeSeries *ts, char *text);

/* True if some series of the profile has a label called name (len bytes). */
extern bool gen_node_emits_label(const char *name, size_t len);

#endif							/* GEN_NODE_H */
