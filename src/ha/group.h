/*-------------------------------------------------------------------------
 *
 * group.h
 *	  Which series are HA data: grouping of a request by (cluster, replica).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_GROUP_H
#define PHA_GROUP_H

#include "request.h"


/*
 * Add the series of a decoded, validated request to req, finding the HA
 * labels by names, or taking them from ha when given (ha[2i] and ha[2i + 1]:
 * series i's labels named names->cluster and names->replica, or NULL).  With
 * only_cluster and only_replica set (replay), only that group's series are
 * taken and marked as replayed; otherwise every series, and the counts are
 * updated.
 */
extern void pha_group_add_request(PhaRequest *req, Prometheus__WriteRequest *wr,
								  const char *only_cluster, const char *only_replica,
								  const PhaLabelNames *names, Prometheus__Label *const *ha);

/*
 * Group a request from its label-only scan (scan.c).  Returns false, adding
 * nothing, unless every series is HA data that the full decoder would accept
 * as far as the election is concerned; the caller then decodes in full.
 */
struct PhaSeriesScan;
extern bool pha_group_add_scan(PhaRequest *req, const struct PhaSeriesScan *s, size_t n);

/* Forget the sample statistics of the groups (kept: their verdicts). */
extern void pha_group_reset_counts(PhaRequest *req);

/* Index of the (cluster, replica) group, created when missing. */
extern int	pha_group_find(PhaRequest *req, const char *cluster, const char *replica);

#endif							/* PHA_GROUP_H */
