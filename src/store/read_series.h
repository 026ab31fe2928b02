/*-------------------------------------------------------------------------
 *
 * read_series.h
 *	  Remote read's series selection: a query's matchers -> the matching
 *	  series in Prometheus' order, a batch at a time, with their labels.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PHA_READ_SERIES_H
#define PHA_READ_SERIES_H

#include "postgres.h"

#include "fmgr.h"

#include "types.pb-c.h"
#include "wire/read.h"

/* One series as the cursor returns it: id and labels sorted by name, bytewise. */
typedef struct PhaReadSeries
{
	int64		id;
	int			n_labels;
	PhaReadLabel *labels;		/* point into the series' sort key */
} PhaReadSeries;

/* An open series cursor: the name of its SPI portal, NULL when closed. */
typedef struct PhaSeriesCursor
{
	char	   *portal;			/* in the context given to open */
} PhaSeriesCursor;

/*
 * Open a cursor (an SPI portal that outlives the caller's SPI connection)
 * over the series matching the matchers, ordered as Prometheus'
 * labels.Compare orders label sets.  Connected to SPI; the portal's name
 * lives in keep_cxt.  A bad regex matcher fails here (store/matchers.h).
 */
extern void pha_series_open(PhaSeriesCursor *cur, Prometheus__LabelMatcher **matchers,
							size_t n_matchers, MemoryContext keep_cxt);

/*
 * The next at most max series into *out (allocated in cxt with their
 * labels); the count, 0 at the end (then the cursor is closed).  Connected
 * to SPI.
 */
extern int	pha_series_fetch(PhaSeriesCursor *cur, int max, MemoryContext cxt,
							 PhaReadSeries **out);

/* Close the cursor if it is open (also outside SPI, at shutdown). */
extern void pha_series_close(PhaSeriesCursor *cur);

/*
 * SQL promscale_ha.label_sort_key(labels jsonb) RETURNS bytea: name \0 value
 * \0 ... over the labels sorted by name bytewise, whose byte order is the
 * order of labels.Compare (no label holds a NUL).
 */
extern Datum pha_label_sort_key(PG_FUNCTION_ARGS);

#endif							/* PHA_READ_SERIES_H */
