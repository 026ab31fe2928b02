/*-------------------------------------------------------------------------
 *
 * group.c
 *	  Which series are HA data: grouping of a request by (cluster, replica).
 *
 * Every series is looked at.  One with both the cluster and the replica label
 * (promscale_ha.cluster_label / replica_label) joins the group of that pair
 * and loses its replica label; one with neither is stored as sent; one with
 * only one of them is stored without the HA election, or rejected when
 * promscale_ha.require_ha_labels is on.  The replica label is never stored.
 * Series with the cluster label only are counted per cluster (cluster_stats.c,
 * which warns).  With promscale_ha.high_availability off no series is HA data:
 * both labels are ordinary labels, stored as sent.  A request usually holds a single
 * group, so the last group found is tried first: checking every series costs
 * two binary searches of its labels and one string compare.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"

#include "ha/cluster_stats.h"
#include "ha/group.h"
#include "shmem.h"
#include "wire/scan.h"
#include "guc.h"
#include "timeconv.h"

static char *
label_cstring(Prometheus__Label *l, const char *what)
{
	char	   *s;

	if (l->value.len >= PHA_NAME_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s label value is too long", what),
				 errdetail("Label \"%.*s\" has %zu bytes; HA label values are limited to %d bytes.",
						   (int) l->name.len, (char *) l->name.data, l->value.len,
						   PHA_NAME_LEN - 1)));
	s = palloc(l->value.len + 1);
	memcpy(s, l->value.data, l->value.len);
	s[l->value.len] = '\0';
	return s;
}

int
pha_group_find(PhaRequest *req, const char *cluster, const char *replica)
{
	PhaGroup   *g;

	for (int i = req->ngroups - 1; i >= 0; i--)
	{
		if (strcmp(req->groups[i].in.cluster, cluster) == 0 &&
			strcmp(req->groups[i].in.replica, replica) == 0)
			return i;
	}
	if (req->ngroups == req->maxgroups)
	{
		req->maxgroups = Max(4, req->maxgroups * 2);
		req->groups = req->groups
			? repalloc(req->groups, req->maxgroups * sizeof(PhaGroup))
			: palloc(req->maxgroups * sizeof(PhaGroup));
	}
	g = &req->groups[req->ngroups];
	memset(g, 0, sizeof(PhaGroup));
	g->in.cluster = pstrdup(cluster);
	g->in.replica = pstrdup(replica);
	g->in.tmin = PG_INT64_MAX;
	g->in.tmax = PG_INT64_MIN;
	g->out.max_stored_t = PG_INT64_MIN;
	return req->ngroups++;
}

/* Does label l have exactly the value s? */
static bool
value_is(Prometheus__Label *l, const char *s)
{
	size_t		n = strlen(s);

	return l->value.len == n && memcmp(l->value.data, s, n) == 0;
}

static void
add_series(PhaRequest *req, Prometheus__TimeSeries *ts, int group, bool replayed)
{
	if (req->nseries == req->maxseries)
	{
		req->maxseries = Max(64, req->maxseries * 2);
		req->series = req->series
			? repalloc_huge(req->series, req->maxseries * sizeof(PhaSeriesIn))
			: palloc(req->maxseries * sizeof(PhaSeriesIn));
	}
	req->series[req->nseries].ts = ts;
	req->series[req->nseries].group = group;
	req->series[req->nseries].replayed = replayed;
	req->nseries++;
}

/* Remove label l (which must be in ts) from ts, keeping the order. */
static void
remove_label(Prometheus__TimeSeries *ts, Prometheus__Label *l)
{
	size_t		k = 0;

	for (size_t i = 0; i < ts->n_labels; i++)
		if (ts->labels[i] != l)
			ts->labels[k++] = ts->labels[i];
	ts->n_labels = k;
}

void
pha_group_add_request(PhaRequest *req, Prometheus__WriteRequest *wr,
					  const char *only_cluster, const char *only_replica,
					  const PhaLabelNames *names, Prometheus__Label *const *ha)
{
	size_t		clen = strlen(names->cluster);
	size_t		rlen = strlen(names->replica);
	bool		replay = (only_cluster != NULL);
	int			last = -1;

	for (size_t i = 0; i < wr->n_timeseries; i++)
	{
		Prometheus__TimeSeries *ts = wr->timeseries[i];
		Prometheus__Label *cl = NULL;
		Prometheus__Label *rl = NULL;
		int			g = -1;

		if (ha != NULL)
		{
			cl = ha[2 * i];
			rl = ha[2 * i + 1];
		}
		else if (pha_high_availability || replay)	/* with HA off they are ordinary labels */
		{
			cl = pha_find_label(ts, names->cluster, clen);
			rl = pha_find_label(ts, names->replica, rlen);
		}

		if ((i & 4095) == 4095)
			CHECK_FOR_INTERRUPTS();

		if (replay)
		{
			/* a buffered payload: take only the group being replayed */
			if (cl == NULL || rl == NULL || !value_is(cl, only_cluster) ||
				!value_is(rl, only_replica))
				continue;
			remove_label(ts, rl);
			add_series(req, ts, pha_group_find(req, only_cluster, only_replica), true);
			continue;
		}

		/* timestamps must map onto timestamptz, whoever sends them */
		for (size_t s = 0; s < ts->n_samples; s++)
			if (!pha_ms_valid(ts->samples[s]->timestamp))
				ereport(ERROR,
						(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
						 errmsg("sample timestamp out of range: %lld ms",
								(long long) ts->samples[s]->timestamp),
						 errdetail("Series %zu of the request; timestamps are milliseconds since 1970-01-01 UTC.",
								   i)));

		if (!pha_high_availability)
			;					/* HA off: both labels are ordinary labels */
		else if (cl != NULL && rl != NULL)
		{
			if (last >= 0 && value_is(cl, req->groups[last].in.cluster) &&
				value_is(rl, req->groups[last].in.replica))
				g = last;
			else
				g = last = pha_group_find(req, label_cstring(cl, "cluster"),
										  label_cstring(rl, "replica"));
			remove_label(ts, rl);
		}
		else if ((cl != NULL || rl != NULL) && pha_require_ha_labels)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("series has label \"%s\" but not \"%s\"",
							cl ? names->cluster : names->replica,
							cl ? names->replica : names->cluster),
					 errdetail("Series %zu of the request; promscale_ha.require_ha_labels is on.", i),
					 errhint("Set both labels as external_labels of every Prometheus replica.")));
		else if (rl != NULL)
			remove_label(ts, rl);	/* the replica label is never stored */
		else if (cl != NULL)	/* no HA: counted, and warned about */
			pha_cluster_stats_no_replica((const char *) cl->value.data, cl->value.len,
										 (int64) ts->n_samples);

		add_series(req, ts, g, false);
		req->counts.samples_received += ts->n_samples;
		req->counts.exemplars_ignored += ts->n_exemplars;
		req->counts.histograms_ignored += ts->n_histograms;
		if (g >= 0)
		{
			PhaGroup   *grp = &req->groups[g];

			for (size_t s = 0; s < ts->n_samples; s++)
			{
				int64		t = ts->samples[s]->timestamp;

				if (t > req->future_limit_ms)
				{
					grp->in.future++;
					continue;
				}
				grp->in.tmin = Min(grp->in.tmin, t);
				grp->in.tmax = Max(grp->in.tmax, t);
				grp->in.nsamples++;
			}
		}
	}
	if (!replay)
		req->counts.metadata_ignored += wr->n_metadata;
}

static char *
bytes_cstring(const uint8_t *p, size_t len)
{
	char	   *s = palloc(len + 1);

	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

bool
pha_group_add_scan(PhaRequest *req, const PhaSeriesScan *s, size_t n)
{
	int			last = -1;

	if (!pha_high_availability)
		return false;			/* no HA groups: the full decoder stores all */
	for (size_t i = 0; i < n; i++)
	{
		if (s[i].odd || s[i].bad_time || s[i].cluster == NULL || s[i].replica == NULL ||
			s[i].cluster_len >= PHA_NAME_LEN || s[i].replica_len >= PHA_NAME_LEN ||
			!pha_utf8_valid(s[i].cluster, s[i].cluster_len) ||
			!pha_utf8_valid(s[i].replica, s[i].replica_len))
			return false;		/* the full decoder says what is wrong */
	}
	for (size_t i = 0; i < n; i++)
	{
		const PhaSeriesScan *x = &s[i];
		PhaGroup   *g;

		if (last < 0 ||
			strlen(req->groups[last].in.cluster) != x->cluster_len ||
			memcmp(req->groups[last].in.cluster, x->cluster, x->cluster_len) != 0 ||
			strlen(req->groups[last].in.replica) != x->replica_len ||
			memcmp(req->groups[last].in.replica, x->replica, x->replica_len) != 0)
			last = pha_group_find(req, bytes_cstring(x->cluster, x->cluster_len),
								  bytes_cstring(x->replica, x->replica_len));
		g = &req->groups[last];
		if (x->nsamples > 0)
		{
			g->in.tmin = Min(g->in.tmin, x->tmin);
			g->in.tmax = Max(g->in.tmax, x->tmax);
		}
		g->in.nsamples += x->nsamples;
		g->in.future += x->nfuture;
		req->counts.samples_received += x->nsamples + x->nfuture;
	}
	return true;
}

/* Forget the sample statistics of the groups (kept: their verdicts). */
void
pha_group_reset_counts(PhaRequest *req)
{
	for (int i = 0; i < req->ngroups; i++)
	{
		PhaGroup   *g = &req->groups[i];

		g->in.tmin = PG_INT64_MAX;
		g->in.tmax = PG_INT64_MIN;
		g->in.nsamples = 0;
		g->in.future = 0;
	}
	memset(&req->counts, 0, sizeof(req->counts));
}
