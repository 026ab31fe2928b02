/*-------------------------------------------------------------------------
 *
 * chunk_scan.c
 *	  The foreign-data wrapper behind promscale_ha.samples_compressed: reads
 *	  the chunks of promscale_ha.chunks that can hold wanted samples and
 *	  decodes them into (series_id, time, value) rows.
 *
 * Planning.  The restriction (and, on a parameterized path, join) clauses
 * of the forms
 *		series_id = <expr>			series_id = ANY (<array expr>)	(IN lists too)
 *		time {<,<=,=,>=,>} <expr>	(either operand order)
 * where <expr> holds no Var of this relation, no volatile function and no
 * SubPlan (a Const, a Param, now() - interval '1 hour', an outer column
 * that becomes a nested-loop Param) are "chunk conditions": the scan
 * enforces them exactly, so they leave the local quals.  Everything else is
 * a local filter.  The conditions' expressions go to fdw_exprs, their kind,
 * strategy and argument type to fdw_private (three parallel lists).
 *
 * Paths: one plain path, costed by the chunks its time range covers (the
 * chunk count from the table's size, the compressed span from
 * promscale_ha.compressed_ranges, read once per planning with a kept plan),
 * and one parameterized path per set of outer relations that can supply
 * series_id (join clauses and EquivalenceClasses, as postgres_fdw does),
 * costed per series at its share of the chunks (about 2), so that a join
 * from a few series runs as a nested loop probing only their chunks.
 *
 * Execution.  At the first fetch after Begin or ReScan the condition
 * expressions are evaluated (a NULL matches nothing, as in SQL), giving a
 * sorted set of series ids or none, and the tightest time bounds, made
 * inclusive (time > x is time >= x + 1 microsecond).  The chunk rows come
 * from a cursor over a kept plan:
 *		series_id = ANY($1) AND max_time >= lo AND max_time < hi + 1 day
 *			AND min_time <= hi ORDER BY series_id, max_time
 * (the primary key's range scan), or without series ids the same time test
 * (the BRIN index on max_time).  "max_time < hi + 1 day" is implied by
 * "min_time <= hi" because a chunk never spans a UTC day boundary, and
 * bounds the index range; for an infinite hi it becomes infinity.  Rows are
 * fetched 64 at a time, each fetch inside its own SPI_connect/SPI_finish so
 * the SPI stack is balanced between executor callbacks; the cursor uses the
 * query's snapshot (read-only), so a sample moved from the head into a
 * chunk is seen exactly once by promscale_ha.samples.
 *
 * Memory: a batch context (one fetch: the rows, their data still toasted)
 * and a chunk context (the detoasted chunk and its decoded arrays), each
 * reset before reuse, so a scan holds one batch plus one chunk whatever the
 * result size.  Output tuples are virtual and hold only by-value datums.
 *
 * A chunk that fails to decode, or whose samples disagree with its row
 * (count, min_time/max_time), is ERRCODE_DATA_CORRUPTED naming the series
 * and the chunk's max_time (pha_chunk_read, chunk_io.c).  The scan writes nothing, takes no locks of its
 * own beyond AccessShareLock on the chunks table (planner and cursor), and
 * leaves INSERT/UPDATE/DELETE unsupported (their callbacks are NULL).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "executor/spi.h"
#include "foreign/fdwapi.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/plancat.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/selfuncs.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "sql.h"
#include "store/chunk_io.h"
#include "store/chunk_scan.h"
#include "timeconv.h"

/* Columns of promscale_ha.samples_compressed. */
#define ATT_SERIES_ID	1
#define ATT_TIME		2
#define ATT_VALUE		3

/* Chunk rows per cursor fetch. */
#define FETCH_BATCH		64

/* Planner defaults when the catalogs say nothing. */
#define DEFAULT_SAMPLES_PER_CHUNK	240.0	/* 2 h at 30 s */
#define DEFAULT_CHUNKS_PER_SERIES	2.0
#define DEFAULT_ARRAY_SERIES		10.0

/* What a chunk condition constrains. */
typedef enum CondKind
{
	COND_SERIES_EQ,				/* series_id = expr */
	COND_SERIES_ANY,			/* series_id = ANY (array expr) */
	COND_TIME					/* time <strategy> expr */
} CondKind;

typedef struct ChunkCond
{
	CondKind	kind;
	int			strategy;		/* BT*StrategyNumber, from the column's side */
	Oid			argtype;		/* expr's type, or its element type for ANY */
	Expr	   *expr;
} ChunkCond;

/* Planner estimates of one foreign rel, in RelOptInfo.fdw_private. */
typedef struct ChunkRelInfo
{
	double		chunks;			/* chunk rows in the table */
	double		series;			/* distinct series among them; 0 unknown */
	double		per_chunk;		/* samples per chunk */
	double		time_frac;		/* share of chunks the restriction's times cover */
	double		nseries;		/* series ids the restriction names; -1 none */
	Selectivity local_sel;		/* of the quals left to the local filter */
	QualCost	local_cost;
} ChunkRelInfo;

/* One chunk row of a fetched batch; data may still be a toast pointer. */
typedef struct ChunkRow
{
	int64		series_id;
	TimestampTz min_time;
	TimestampTz max_time;
	int32		samples;
	Datum		data;
} ChunkRow;

/* Executor state, in ForeignScanState.fdw_state. */
typedef struct ChunkScanState
{
	/* the plan's conditions */
	int			ncond;
	CondKind   *kinds;
	int		   *strategies;
	Oid		   *types;
	List	   *exprstates;

	/* one (re)scan: evaluated conditions and the cursor, in scan_cxt */
	MemoryContext scan_cxt;
	bool		started;
	bool		empty;			/* the conditions match nothing */
	bool		have_series;
	int64	   *series;			/* sorted, distinct */
	int			nseries;
	TimestampTz lo;				/* inclusive */
	TimestampTz hi;				/* inclusive */
	char	   *cursor;			/* open cursor's name, NULL when closed */

	/* the current batch of chunk rows */
	MemoryContext batch_cxt;
	ChunkRow   *rows;
	int			nrows;
	int			next_row;

	/* the current chunk's samples inside the bounds: [pos, end) */
	MemoryContext chunk_cxt;
	int64		cur_series;
	int64	   *t;
	double	   *v;
	size_t		pos;
	size_t		end;

	/* EXPLAIN ANALYZE, summed over rescans */
	int64		chunks_read;
	int64		samples_decoded;
	int64		samples_returned;
} ChunkScanState;

static SPIPlanPtr by_series_plan = NULL;
static SPIPlanPtr by_time_plan = NULL;
static SPIPlanPtr span_plan = NULL;

#define CHUNK_COLUMNS "SELECT series_id, min_time, max_time, samples, data FROM promscale_ha.chunks"
static const char *const by_series_sql = CHUNK_COLUMNS
" WHERE series_id = ANY ($1) AND max_time >= $2 AND max_time < $4 AND min_time <= $3"
" ORDER BY series_id, max_time";
static const char *const by_time_sql = CHUNK_COLUMNS
" WHERE max_time >= $1 AND max_time < $3 AND min_time <= $2";
static const char *const span_sql =
"SELECT min(range_start), max(range_end), sum(samples)::float8, sum(chunks)::float8"
" FROM promscale_ha.compressed_ranges";

PG_FUNCTION_INFO_V1(pha_chunks_fdw_handler);

/* ------------------------------------------------------------------------
 * Classifying clauses
 * ------------------------------------------------------------------------
 */

/* The column (ATT_SERIES_ID or ATT_TIME) node is of this rel, else 0. */
static int
own_column(RelOptInfo *rel, Node *node)
{
	Var		   *var = (Var *) node;

	if (node == NULL || !IsA(node, Var) || var->varno != rel->relid ||
		var->varlevelsup != 0)
		return 0;
	if (var->varattno == ATT_SERIES_ID && var->vartype == INT8OID)
		return ATT_SERIES_ID;
	if (var->varattno == ATT_TIME && var->vartype == TIMESTAMPTZOID)
		return ATT_TIME;
	return 0;
}

/* Can the scan evaluate node once per (re)scan?  No own Vars, nothing volatile. */
static bool
usable_operand(PlannerInfo *root, RelOptInfo *rel, Node *node)
{
	return !bms_is_member(rel->relid, pull_varnos(root, node)) &&
		!contain_volatile_functions(node) &&
		!contain_subplans(node);
}

/*
 * Strategy of opno as "bigint <op> argtype" in the integer btree family
 * with an integer argtype, or as "timestamptz <op> timestamptz"; 0 if not.
 */
static int
column_strategy(int attno, Oid opno, Oid *argtype)
{
	Oid			coltype = attno == ATT_SERIES_ID ? INT8OID : TIMESTAMPTZOID;
	Oid			opf = lookup_type_cache(coltype, TYPECACHE_BTREE_OPFAMILY)->btree_opf;
	int			strategy;
	Oid			lefttype;
	Oid			righttype;

	if (!OidIsValid(opf) || !OidIsValid(opno) || !op_in_opfamily(opno, opf))
		return 0;
	get_op_opfamily_properties(opno, opf, false, &strategy, &lefttype, &righttype);
	if (lefttype != coltype)
		return 0;
	if (attno == ATT_TIME && righttype != TIMESTAMPTZOID)
		return 0;
	if (attno == ATT_SERIES_ID &&
		(strategy != BTEqualStrategyNumber ||
		 (righttype != INT8OID && righttype != INT4OID && righttype != INT2OID)))
		return 0;
	*argtype = righttype;
	return strategy;
}

/* Is clause a chunk condition of rel?  If so, describe it in *cond. */
static bool
classify_clause(PlannerInfo *root, RelOptInfo *rel, Expr *clause, ChunkCond *cond)
{
	if (IsA(clause, OpExpr) && list_length(((OpExpr *) clause)->args) == 2)
	{
		OpExpr	   *op = (OpExpr *) clause;
		Node	   *left = linitial(op->args);
		Node	   *right = lsecond(op->args);
		Oid			opno = op->opno;
		int			attno;

		if ((attno = own_column(rel, left)) != 0 && usable_operand(root, rel, right))
			 /* column <op> expr */ ;
		else if ((attno = own_column(rel, right)) != 0 && usable_operand(root, rel, left))
		{
			/* expr <op> column: commute */
			opno = get_commutator(opno);
			right = left;
		}
		else
			return false;
		cond->strategy = column_strategy(attno, opno, &cond->argtype);
		if (cond->strategy == 0)
			return false;
		cond->kind = attno == ATT_SERIES_ID ? COND_SERIES_EQ : COND_TIME;
		cond->expr = (Expr *) right;
		return true;
	}
	if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) clause;

		if (!saop->useOr || list_length(saop->args) != 2 ||
			own_column(rel, linitial(saop->args)) != ATT_SERIES_ID ||
			!usable_operand(root, rel, lsecond(saop->args)))
			return false;
		cond->strategy = column_strategy(ATT_SERIES_ID, saop->opno, &cond->argtype);
		if (cond->strategy == 0)
			return false;
		cond->kind = COND_SERIES_ANY;
		cond->expr = (Expr *) lsecond(saop->args);
		return true;
	}
	return false;
}

/* ------------------------------------------------------------------------
 * Estimates
 * ------------------------------------------------------------------------
 */

/* Chunk rows and distinct series of promscale_ha.chunks, from its size and stats. */
static void
chunks_table_estimate(ChunkRelInfo *info)
{
	Oid			nsp = get_namespace_oid("promscale_ha", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("chunks", nsp) : InvalidOid;
	Relation	rel;
	BlockNumber pages;
	double		tuples;
	double		allvisfrac;
	HeapTuple	stat;

	if (!OidIsValid(relid))
		return;
	rel = table_open(relid, AccessShareLock);
	estimate_rel_size(rel, NULL, &pages, &tuples, &allvisfrac);
	table_close(rel, NoLock);
	info->chunks = Max(tuples, 0);

	stat = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(relid),
						   Int16GetDatum(1), BoolGetDatum(false));
	if (HeapTupleIsValid(stat))
	{
		float4		nd = ((Form_pg_statistic) GETSTRUCT(stat))->stadistinct;

		info->series = nd >= 0 ? nd : -nd * info->chunks;
		ReleaseSysCache(stat);
	}
}

/*
 * The compressed span and samples per chunk from compressed_ranges: one
 * aggregate over a small table through a kept plan, read-only in the
 * planner's snapshot.  Without a snapshot, the defaults stand.
 */
static void
compressed_span(TimestampTz *start, TimestampTz *end, ChunkRelInfo *info)
{
	bool		isnull;

	*start = *end = 0;
	if (!ActiveSnapshotSet())
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (span_plan == NULL)
		span_plan = pha_sql_prepare(span_sql, 0, NULL);
	if (SPI_execute_plan(span_plan, NULL, NULL, true, 1) == SPI_OK_SELECT &&
		SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Datum		d;

		d = SPI_getbinval(tup, desc, 1, &isnull);
		if (!isnull)
		{
			*start = DatumGetTimestampTz(d);
			*end = DatumGetTimestampTz(SPI_getbinval(tup, desc, 2, &isnull));
		}
		d = SPI_getbinval(tup, desc, 4, &isnull);
		if (!isnull && DatumGetFloat8(d) > 0)
			info->per_chunk = DatumGetFloat8(SPI_getbinval(tup, desc, 3, &isnull)) /
				DatumGetFloat8(d);
	}
	SPI_finish();
}

/*
 * Share of the compressed span [start, end) that the restriction's time
 * conditions cover; a bound known only at run time counts DEFAULT_INEQ_SEL.
 */
static double
time_fraction(PlannerInfo *root, List *conds, TimestampTz start, TimestampTz end)
{
	TimestampTz lo = start;
	TimestampTz hi = end;
	bool		bounded_lo = false;
	bool		bounded_hi = false;
	double		frac = 1.0;
	ListCell   *lc;

	foreach(lc, conds)
	{
		ChunkCond  *c = lfirst(lc);
		Node	   *v;
		TimestampTz ts;

		if (c->kind != COND_TIME)
			continue;
		v = estimate_expression_value(root, (Node *) c->expr);
		if (!IsA(v, Const) || ((Const *) v)->constisnull)
		{
			frac *= DEFAULT_INEQ_SEL;
			continue;
		}
		ts = DatumGetTimestampTz(((Const *) v)->constvalue);
		if (c->strategy != BTLessStrategyNumber && c->strategy != BTLessEqualStrategyNumber)
		{
			lo = bounded_lo ? Max(lo, ts) : ts;
			bounded_lo = true;
		}
		if (c->strategy != BTGreaterStrategyNumber && c->strategy != BTGreaterEqualStrategyNumber)
		{
			hi = bounded_hi ? Min(hi, ts) : ts;
			bounded_hi = true;
		}
	}
	if (!bounded_lo && !bounded_hi)
		return frac;
	if (end <= start)			/* nothing compressed on record */
		return frac * (bounded_lo && bounded_hi ? DEFAULT_INEQ_SEL : 0.5);
	lo = Max(lo, start);
	hi = Min(hi, end);
	if (hi < lo)
		return 0.0;
	/* count an hour more: a range inside one chunk still reads that chunk */
	return frac * Min(1.0, ((double) hi - lo + USECS_PER_HOUR) / ((double) end - start));
}

/* Series ids a series condition names, as far as the planner can tell. */
static double
series_count(PlannerInfo *root, ChunkCond *c)
{
	Node	   *v;

	if (c->kind == COND_SERIES_EQ)
		return 1;
	v = estimate_expression_value(root, (Node *) c->expr);
	if (IsA(v, Const))
		return ((Const *) v)->constisnull ? 0 :
			ArrayGetNItems(ARR_NDIM(DatumGetArrayTypeP(((Const *) v)->constvalue)),
						   ARR_DIMS(DatumGetArrayTypeP(((Const *) v)->constvalue)));
	if (IsA(v, ArrayExpr))
		return list_length(((ArrayExpr *) v)->elements);
	return DEFAULT_ARRAY_SERIES;
}

/*
 * Rows and costs of a scan with the rel's restriction plus extra (the
 * RestrictInfos a parameterized path adds).  Chunk rows read: all those in
 * the time range, or per named series its share of them (at least one
 * index probe per series).  Each chunk read costs a page and decoding its
 * samples; each sample returned a tuple and the local filter.
 */
static void
estimate_scan(PlannerInfo *root, RelOptInfo *rel, ChunkRelInfo *info, List *extra,
			  double *rows, Cost *startup, Cost *total)
{
	double		nseries = info->nseries;
	double		frac = info->time_frac;
	double		chunks;
	double		per_series;
	double		samples;
	Cost		run;
	ListCell   *lc;

	foreach(lc, extra)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
		ChunkCond	c;

		if (ri->pseudoconstant || !classify_clause(root, rel, ri->clause, &c))
			continue;
		if (c.kind == COND_TIME)
			frac *= DEFAULT_INEQ_SEL;
		else
			nseries = nseries < 0 ? series_count(root, &c) : Min(nseries, series_count(root, &c));
	}

	chunks = info->chunks * frac;
	if (nseries >= 0)
	{
		per_series = info->series >= 1 ? chunks / info->series
			: Min(chunks, DEFAULT_CHUNKS_PER_SERIES);
		chunks = Min(chunks, nseries * per_series);
		run = nseries * random_page_cost + chunks * random_page_cost;
	}
	else
		run = chunks * seq_page_cost;
	samples = chunks * info->per_chunk;
	run += samples * (cpu_operator_cost + cpu_tuple_cost + info->local_cost.per_tuple);

	*rows = clamp_row_est(samples * info->local_sel);
	*startup = info->local_cost.startup + 10 * cpu_operator_cost;
	*total = *startup + run;
}

/* ------------------------------------------------------------------------
 * Planner callbacks
 * ------------------------------------------------------------------------
 */

/* GetForeignRelSize: gather the estimates of the rel and its restriction. */
static void
chunks_rel_size(PlannerInfo *root, RelOptInfo *rel, Oid foreigntableid)
{
	ChunkRelInfo *info = palloc0(sizeof(ChunkRelInfo));
	TimestampTz start;
	TimestampTz end;
	List	   *conds = NIL;
	List	   *local = NIL;
	ListCell   *lc;
	Cost		startup;
	Cost		total;

	info->per_chunk = DEFAULT_SAMPLES_PER_CHUNK;
	info->nseries = -1;
	chunks_table_estimate(info);
	compressed_span(&start, &end, info);

	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
		ChunkCond  *c = palloc(sizeof(ChunkCond));

		if (ri->pseudoconstant)
			continue;
		if (!classify_clause(root, rel, ri->clause, c))
		{
			local = lappend(local, ri);
			continue;
		}
		conds = lappend(conds, c);
		if (c->kind != COND_TIME)
			info->nseries = info->nseries < 0 ? series_count(root, c)
				: Min(info->nseries, series_count(root, c));
	}
	info->time_frac = time_fraction(root, conds, start, end);
	info->local_sel = clauselist_selectivity(root, extract_actual_clauses(local, false),
											 rel->relid, JOIN_INNER, NULL);
	cost_qual_eval(&info->local_cost, local, root);
	rel->fdw_private = info;
	estimate_scan(root, rel, info, NIL, &rel->rows, &startup, &total);
}

/* EquivalenceClass callback: is em this rel's series_id? */
static bool
series_member(PlannerInfo *root, RelOptInfo *rel, EquivalenceClass *ec,
			  EquivalenceMember *em, void *arg)
{
	return own_column(rel, (Node *) em->em_expr) == ATT_SERIES_ID;
}

/* The ParamPathInfo for a series join clause ri, added to ppis once. */
static List *
series_param_info(PlannerInfo *root, RelOptInfo *rel, RestrictInfo *ri, List *ppis)
{
	ChunkCond	c;
	Relids		outer;

	if (!join_clause_is_movable_to(ri, rel) ||
		!classify_clause(root, rel, ri->clause, &c) || c.kind == COND_TIME)
		return ppis;
	outer = bms_union(ri->clause_relids, rel->lateral_relids);
	outer = bms_del_member(outer, rel->relid);
	if (bms_is_empty(outer))
		return ppis;
	return list_append_unique_ptr(ppis, get_baserel_parampathinfo(root, rel, outer));
}

/*
 * GetForeignPaths: the plain path, then one parameterized path per set of
 * outer rels that can supply series_id, from join clauses and from
 * EquivalenceClasses (x.series_id = s.id is absorbed into one).
 */
static void
chunks_paths(PlannerInfo *root, RelOptInfo *rel, Oid foreigntableid)
{
	ChunkRelInfo *info = rel->fdw_private;
	List	   *ppis = NIL;
	ListCell   *lc;
	double		rows;
	Cost		startup;
	Cost		total;

	estimate_scan(root, rel, info, NIL, &rows, &startup, &total);
	add_path(rel, (Path *) create_foreignscan_path(root, rel, NULL, rows, startup, total,
												   NIL, rel->lateral_relids, NULL, NIL));

	foreach(lc, rel->joininfo)
		ppis = series_param_info(root, rel, lfirst_node(RestrictInfo, lc), ppis);
	if (rel->has_eclass_joins)
	{
		List	   *clauses = generate_implied_equalities_for_column(root, rel, series_member,
																	 NULL,
																	 rel->lateral_referencers);

		foreach(lc, clauses)
			ppis = series_param_info(root, rel, lfirst_node(RestrictInfo, lc), ppis);
	}

	foreach(lc, ppis)
	{
		ParamPathInfo *ppi = lfirst(lc);

		estimate_scan(root, rel, info, ppi->ppi_clauses, &rows, &startup, &total);
		add_path(rel, (Path *) create_foreignscan_path(root, rel, NULL, rows, startup, total,
													   NIL, ppi->ppi_req_outer, NULL, NIL));
	}
}

/*
 * GetForeignPlan: chunk conditions to fdw_exprs (+ their description in
 * fdw_private), the rest to the local quals.  scan_clauses holds the
 * path's join clauses too; create_foreignscan_plan turns their outer Vars
 * into nested-loop Params afterwards.
 */
static ForeignScan *
chunks_plan(PlannerInfo *root, RelOptInfo *rel, Oid foreigntableid, ForeignPath *best_path,
			List *tlist, List *scan_clauses, Plan *outer_plan)
{
	List	   *local = NIL;
	List	   *exprs = NIL;
	List	   *kinds = NIL;
	List	   *strategies = NIL;
	List	   *types = NIL;
	ListCell   *lc;

	foreach(lc, scan_clauses)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);
		ChunkCond	c;

		if (ri->pseudoconstant)
			continue;			/* the planner makes a gating Result of these */
		if (!classify_clause(root, rel, ri->clause, &c))
		{
			local = lappend(local, ri->clause);
			continue;
		}
		exprs = lappend(exprs, c.expr);
		kinds = lappend_int(kinds, c.kind);
		strategies = lappend_int(strategies, c.strategy);
		types = lappend_oid(types, c.argtype);
	}
	return make_foreignscan(tlist, local, rel->relid, exprs,
							list_make3(kinds, strategies, types), NIL, NIL, outer_plan);
}

/* ------------------------------------------------------------------------
 * Execution
 * ------------------------------------------------------------------------
 */

/* BeginForeignScan: compile the condition expressions; no I/O yet. */
static void
chunks_begin(ForeignScanState *node, int eflags)
{
	ForeignScan *fs = (ForeignScan *) node->ss.ps.plan;
	ChunkScanState *st;
	List	   *kinds = linitial(fs->fdw_private);
	List	   *strategies = lsecond(fs->fdw_private);
	List	   *types = lthird(fs->fdw_private);
	MemoryContext parent = node->ss.ps.state->es_query_cxt;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;
	st = palloc0(sizeof(ChunkScanState));
	st->ncond = list_length(kinds);
	st->kinds = palloc(sizeof(CondKind) * (st->ncond + 1));
	st->strategies = palloc(sizeof(int) * (st->ncond + 1));
	st->types = palloc(sizeof(Oid) * (st->ncond + 1));
	for (int i = 0; i < st->ncond; i++)
	{
		st->kinds[i] = (CondKind) list_nth_int(kinds, i);
		st->strategies[i] = list_nth_int(strategies, i);
		st->types[i] = list_nth_oid(types, i);
	}
	st->exprstates = ExecInitExprList(fs->fdw_exprs, (PlanState *) node);
	st->scan_cxt = AllocSetContextCreate(parent, "pha chunk scan", ALLOCSET_SMALL_SIZES);
	st->batch_cxt = AllocSetContextCreate(parent, "pha chunk batch", ALLOCSET_DEFAULT_SIZES);
	st->chunk_cxt = AllocSetContextCreate(parent, "pha chunk", ALLOCSET_DEFAULT_SIZES);
	node->fdw_state = st;
}

/* An integer of type typid (int2, int4, int8) as int64. */
static int64
series_datum(Datum d, Oid typid)
{
	if (typid == INT2OID)
		return DatumGetInt16(d);
	if (typid == INT4OID)
		return DatumGetInt32(d);
	return DatumGetInt64(d);
}

static int
cmp_int64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y;
}

/* Keep only the series ids of st also in ids[0..n-1] (sorted, distinct). */
static void
intersect_series(ChunkScanState *st, int64 *ids, int n)
{
	int			i = 0,
				j = 0,
				k = 0;

	if (!st->have_series)
	{
		st->have_series = true;
		st->series = ids;
		st->nseries = n;
		return;
	}
	while (i < st->nseries && j < n)
	{
		if (st->series[i] < ids[j])
			i++;
		else if (st->series[i] > ids[j])
			j++;
		else
		{
			st->series[k++] = st->series[i];
			i++;
			j++;
		}
	}
	st->nseries = k;
}

/* The non-null elements of an integer array, sorted and distinct, in scan_cxt. */
static void
add_series_array(ChunkScanState *st, ArrayType *arr, Oid elemtype)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			m = 0;
	int64	   *ids;

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(arr, elemtype, typlen, typbyval, typalign, &elems, &nulls, &n);
	ids = MemoryContextAlloc(st->scan_cxt, sizeof(int64) * (n + 1));
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			ids[m++] = series_datum(elems[i], elemtype);
	if (m > 1)
	{
		int			u = 1;

		qsort(ids, m, sizeof(int64), cmp_int64);
		for (int i = 1; i < m; i++)
			if (ids[i] != ids[u - 1])
				ids[u++] = ids[i];
		m = u;
	}
	intersect_series(st, ids, m);
}

/*
 * Narrow [lo, hi] by one time condition.  Strict bounds become inclusive
 * ones (a timestamptz is a whole number of microseconds), so that the chunk
 * query does not read a chunk that only touches an excluded end.
 */
static void
add_time_bound(ChunkScanState *st, int strategy, TimestampTz ts)
{
	switch (strategy)
	{
		case BTGreaterStrategyNumber:
			if (ts == DT_NOEND)
				st->empty = true;
			else if (ts != DT_NOBEGIN)
				st->lo = Max(st->lo, ts + 1);
			break;
		case BTLessStrategyNumber:
			if (ts == DT_NOBEGIN)
				st->empty = true;
			else if (ts != DT_NOEND)
				st->hi = Min(st->hi, ts - 1);
			break;
		case BTGreaterEqualStrategyNumber:
			st->lo = Max(st->lo, ts);
			break;
		case BTLessEqualStrategyNumber:
			st->hi = Min(st->hi, ts);
			break;
		case BTEqualStrategyNumber:
			st->lo = Max(st->lo, ts);
			st->hi = Min(st->hi, ts);
			break;
	}
}

/* Evaluate the conditions (after Begin or ReScan): series set and time bounds. */
static void
evaluate_conditions(ForeignScanState *node, ChunkScanState *st)
{
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	MemoryContext old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	ListCell   *lc;
	int			i = 0;

	st->have_series = false;
	st->nseries = 0;
	st->lo = DT_NOBEGIN;
	st->hi = DT_NOEND;
	st->empty = false;
	foreach(lc, st->exprstates)
	{
		bool		isnull;
		Datum		d = ExecEvalExpr((ExprState *) lfirst(lc), econtext, &isnull);
		int			c = i++;

		if (isnull)
		{
			st->empty = true;	/* x = NULL, x < NULL, x = ANY (NULL) */
			continue;
		}
		if (st->kinds[c] == COND_TIME)
			add_time_bound(st, st->strategies[c], DatumGetTimestampTz(d));
		else if (st->kinds[c] == COND_SERIES_ANY)
			add_series_array(st, DatumGetArrayTypeP(d), st->types[c]);
		else
		{
			int64	   *id = MemoryContextAlloc(st->scan_cxt, sizeof(int64));

			*id = series_datum(d, st->types[c]);
			intersect_series(st, id, 1);
		}
	}
	MemoryContextSwitchTo(old);
	if (st->lo > st->hi || (st->have_series && st->nseries == 0))
		st->empty = true;
}

/* Open the cursor over the chunk rows the conditions can match. */
static void
open_cursor(ChunkScanState *st)
{
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	TimestampTz below = DT_NOEND;	/* max_time < below */
	Portal		portal;
	SPIPlanPtr	plan;

	/* a chunk starting at or before hi ends before hi + 1 day */
	if (!TIMESTAMP_NOT_FINITE(st->hi) && st->hi < END_TIMESTAMP - PHA_CHUNK_SPAN_MS * 1000)
		below = st->hi + PHA_CHUNK_SPAN_MS * 1000;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (st->have_series)
	{
		MemoryContext old = MemoryContextSwitchTo(st->scan_cxt);
		Datum	   *ids = palloc(sizeof(Datum) * st->nseries);

		for (int i = 0; i < st->nseries; i++)
			ids[i] = Int64GetDatum(st->series[i]);
		values[0] = PointerGetDatum(construct_array(ids, st->nseries, INT8OID, sizeof(int64),
													FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		MemoryContextSwitchTo(old);
		values[1] = TimestampTzGetDatum(st->lo);
		values[2] = TimestampTzGetDatum(st->hi);
		values[3] = TimestampTzGetDatum(below);
		if (by_series_plan == NULL)
			by_series_plan = pha_sql_prepare(by_series_sql, 4,
											 (Oid[]) {INT8ARRAYOID, TIMESTAMPTZOID,
													  TIMESTAMPTZOID, TIMESTAMPTZOID});
		plan = by_series_plan;
	}
	else
	{
		values[0] = TimestampTzGetDatum(st->lo);
		values[1] = TimestampTzGetDatum(st->hi);
		values[2] = TimestampTzGetDatum(below);
		if (by_time_plan == NULL)
			by_time_plan = pha_sql_prepare(by_time_sql, 3,
										   (Oid[]) {TIMESTAMPTZOID, TIMESTAMPTZOID,
													TIMESTAMPTZOID});
		plan = by_time_plan;
	}
	/* read-only: the cursor sees the query's snapshot, as the head scan does */
	portal = SPI_cursor_open(NULL, plan, values, nulls, true);
	st->cursor = MemoryContextStrdup(st->scan_cxt, portal->name);
	SPI_finish();
}

/* Close the cursor if open. */
static void
close_cursor(ChunkScanState *st)
{
	Portal		portal;

	if (st->cursor == NULL)
		return;
	portal = SPI_cursor_find(st->cursor);
	if (portal != NULL)
		SPI_cursor_close(portal);
	st->cursor = NULL;
}

/* Fetch the next batch of chunk rows into batch_cxt; closes the cursor at its end. */
static void
fetch_batch(ChunkScanState *st)
{
	Portal		portal;
	MemoryContext old;

	MemoryContextReset(st->batch_cxt);
	st->rows = NULL;
	st->nrows = st->next_row = 0;
	if (st->cursor == NULL)
		return;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	portal = SPI_cursor_find(st->cursor);
	if (portal == NULL)
		elog(ERROR, "cursor \"%s\" of a chunk scan is gone", st->cursor);
	SPI_cursor_fetch(portal, true, FETCH_BATCH);

	old = MemoryContextSwitchTo(st->batch_cxt);
	st->rows = palloc(sizeof(ChunkRow) * (SPI_processed + 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		ChunkRow   *row = &st->rows[st->nrows++];
		bool		isnull;

		/* every column is NOT NULL */
		row->series_id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		row->min_time = DatumGetTimestampTz(SPI_getbinval(tup, desc, 2, &isnull));
		row->max_time = DatumGetTimestampTz(SPI_getbinval(tup, desc, 3, &isnull));
		row->samples = DatumGetInt32(SPI_getbinval(tup, desc, 4, &isnull));
		/* a toast pointer stays one: the chunk is detoasted when its turn comes */
		row->data = datumCopy(SPI_getbinval(tup, desc, 5, &isnull), false, -1);
	}
	MemoryContextSwitchTo(old);
	if (SPI_processed < FETCH_BATCH)
		close_cursor(st);
	SPI_finish();
}

/* First index in t[0..n-1] (strictly increasing ms) whose time is >= ts, or > ts. */
static size_t
first_at(const int64 *t, size_t n, TimestampTz ts, bool after)
{
	size_t		lo = 0,
				hi = n;

	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;
		TimestampTz x = pha_ms_to_tstz(t[mid]);

		if (x < ts || (after && x == ts))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Decode row's chunk into chunk_cxt and select its samples inside the
 * bounds.  pha_chunk_read raises ERRCODE_DATA_CORRUPTED for bytes that do
 * not decode, a count other than the row's, or times outside the row's.
 */
static void
load_chunk(ChunkScanState *st, ChunkRow *row)
{
	MemoryContext old;
	PhaChunkSamples chunk;

	CHECK_FOR_INTERRUPTS();
	MemoryContextReset(st->chunk_cxt);
	st->pos = st->end = 0;
	old = MemoryContextSwitchTo(st->chunk_cxt);
	pha_chunk_read(DatumGetByteaPP(row->data), row->series_id,
				   pha_tstz_to_ms(row->min_time), pha_tstz_to_ms(row->max_time),
				   row->samples, &chunk);
	MemoryContextSwitchTo(old);

	st->chunks_read++;
	st->samples_decoded += chunk.n;
	st->cur_series = row->series_id;
	st->t = chunk.t;
	st->v = chunk.v;
	st->pos = first_at(chunk.t, chunk.n, st->lo, false);
	st->end = first_at(chunk.t, chunk.n, st->hi, true);
	if (st->end < st->pos)
		st->end = st->pos;
}

/* IterateForeignScan: the next sample inside the bounds, or an empty slot. */
static TupleTableSlot *
chunks_iterate(ForeignScanState *node)
{
	ChunkScanState *st = node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;

	if (!st->started)
	{
		st->started = true;
		evaluate_conditions(node, st);
		if (!st->empty)
			open_cursor(st);
	}
	for (;;)
	{
		if (st->pos < st->end)
		{
			ExecClearTuple(slot);
			slot->tts_values[ATT_SERIES_ID - 1] = Int64GetDatum(st->cur_series);
			slot->tts_values[ATT_TIME - 1] = TimestampTzGetDatum(pha_ms_to_tstz(st->t[st->pos]));
			slot->tts_values[ATT_VALUE - 1] = Float8GetDatum(st->v[st->pos]);
			memset(slot->tts_isnull, 0, sizeof(bool) * slot->tts_tupleDescriptor->natts);
			ExecStoreVirtualTuple(slot);
			st->pos++;
			st->samples_returned++;
			return slot;
		}
		if (st->next_row >= st->nrows)
		{
			fetch_batch(st);
			if (st->nrows == 0)
				return ExecClearTuple(slot);
		}
		load_chunk(st, &st->rows[st->next_row++]);
	}
}

/* Forget the current scan: cursor, batch, chunk; conditions are re-evaluated. */
static void
reset_scan(ChunkScanState *st)
{
	close_cursor(st);
	MemoryContextReset(st->chunk_cxt);
	MemoryContextReset(st->batch_cxt);
	MemoryContextReset(st->scan_cxt);
	st->rows = NULL;
	st->nrows = st->next_row = 0;
	st->t = NULL;
	st->v = NULL;
	st->pos = st->end = 0;
	st->series = NULL;
	st->started = false;
}

/* ReScanForeignScan: new parameter values (a nested loop's next outer row). */
static void
chunks_rescan(ForeignScanState *node)
{
	reset_scan(node->fdw_state);
}

/* EndForeignScan: close the cursor; the contexts go with the query's. */
static void
chunks_end(ForeignScanState *node)
{
	ChunkScanState *st = node->fdw_state;

	if (st == NULL)
		return;
	reset_scan(st);
	MemoryContextDelete(st->chunk_cxt);
	MemoryContextDelete(st->batch_cxt);
	MemoryContextDelete(st->scan_cxt);
	node->fdw_state = NULL;
}

/* ------------------------------------------------------------------------
 * EXPLAIN
 * ------------------------------------------------------------------------
 */

/* The plans directly below plan. */
static List *
plan_children(Plan *plan)
{
	List	   *children = NIL;

	if (plan->lefttree)
		children = lappend(children, plan->lefttree);
	if (plan->righttree)
		children = lappend(children, plan->righttree);
	switch (nodeTag(plan))
	{
		case T_Append:
			return list_concat(children, ((Append *) plan)->appendplans);
		case T_MergeAppend:
			return list_concat(children, ((MergeAppend *) plan)->mergeplans);
		case T_BitmapAnd:
			return list_concat(children, ((BitmapAnd *) plan)->bitmapplans);
		case T_BitmapOr:
			return list_concat(children, ((BitmapOr *) plan)->bitmapplans);
		case T_SubqueryScan:
			return lappend(children, ((SubqueryScan *) plan)->subplan);
		case T_CustomScan:
			return list_concat(children, ((CustomScan *) plan)->custom_plans);
		default:
			return children;
	}
}

/* Is target in the tree under plan?  Then *ancestors gets the path, nearest first. */
static bool
find_plan(Plan *plan, Plan *target, List **ancestors)
{
	ListCell   *lc;

	if (plan == target)
		return true;
	foreach(lc, plan_children(plan))
	{
		if (find_plan(lfirst(lc), target, ancestors))
		{
			*ancestors = lappend(*ancestors, plan);
			return true;
		}
	}
	return false;
}

typedef struct SubPlanSearch
{
	int			plan_id;
	SubPlan    *found;
} SubPlanSearch;

/* expression_tree_walker callback: the SubPlan node of plan_id. */
static bool
find_subplan_walker(Node *node, SubPlanSearch *s)
{
	if (node == NULL)
		return false;
	if (IsA(node, SubPlan) && ((SubPlan *) node)->plan_id == s->plan_id)
	{
		s->found = (SubPlan *) node;
		return true;
	}
	return expression_tree_walker(node, find_subplan_walker, s);
}

/*
 * The plan node under plan whose initplans, targetlist or qual hold the
 * SubPlan s->plan_id (set in s->found); NULL if none does.
 */
static Plan *
subplan_owner(Plan *plan, SubPlanSearch *s)
{
	ListCell   *lc;

	if (find_subplan_walker((Node *) plan->initPlan, s) ||
		find_subplan_walker((Node *) plan->targetlist, s) ||
		find_subplan_walker((Node *) plan->qual, s))
		return plan;
	foreach(lc, plan_children(plan))
	{
		Plan	   *owner = subplan_owner(lfirst(lc), s);

		if (owner != NULL)
			return owner;
	}
	return NULL;
}

/*
 * The ancestors EXPLAIN would pass for target (nearest first: parent plans,
 * and for a plan inside a SubPlan that SubPlan node, then the plan that
 * evaluates it and its ancestors), so that ruleutils can print nested-loop
 * and subplan Params as the outer expressions they stand for.  depth bounds
 * the climb out of nested subplans.
 */
static List *
plan_ancestors(PlannedStmt *pstmt, Plan *target, int depth)
{
	List	   *ancestors = NIL;
	int			id = 0;
	ListCell   *lc;

	if (depth > 8)
		return NIL;
	if (find_plan(pstmt->planTree, target, &ancestors))
		return ancestors;
	foreach(lc, pstmt->subplans)
	{
		Plan	   *sub = lfirst(lc);
		SubPlanSearch s;
		Plan	   *owner = NULL;
		ListCell   *lc2;

		id++;
		ancestors = NIL;
		if (sub == NULL || !find_plan(sub, target, &ancestors))
			continue;
		s.plan_id = id;
		s.found = NULL;
		owner = subplan_owner(pstmt->planTree, &s);
		foreach(lc2, pstmt->subplans)
		{
			if (owner == NULL && lfirst(lc2) != NULL)
				owner = subplan_owner(lfirst(lc2), &s);
		}
		if (owner == NULL)
			return ancestors;
		ancestors = lappend(ancestors, s.found);
		ancestors = lappend(ancestors, owner);
		return list_concat(ancestors, plan_ancestors(pstmt, owner, depth + 1));
	}
	return NIL;
}

/* The operator of a btree strategy, for EXPLAIN. */
static const char *
strategy_operator(int strategy)
{
	switch (strategy)
	{
		case BTLessStrategyNumber:
			return "<";
		case BTLessEqualStrategyNumber:
			return "<=";
		case BTEqualStrategyNumber:
			return "=";
		case BTGreaterEqualStrategyNumber:
			return ">=";
		case BTGreaterStrategyNumber:
			return ">";
	}
	return "?";
}

/*
 * ExplainForeignScan: the conditions the scan enforces ("Chunk Filter"),
 * and with ANALYZE what it read, decoded and returned (summed over loops).
 */
static void
chunks_explain(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *fs = (ForeignScan *) node->ss.ps.plan;
	ChunkScanState *st = node->fdw_state;

	if (fs->fdw_exprs != NIL)
	{
		List	   *context = set_deparse_context_plan(es->deparse_cxt, (Plan *) fs,
													   plan_ancestors(es->pstmt, (Plan *) fs, 0));
		List	   *kinds = linitial(fs->fdw_private);
		List	   *strategies = lsecond(fs->fdw_private);
		StringInfoData buf;
		ListCell   *lc;
		int			i = 0;

		initStringInfo(&buf);
		foreach(lc, fs->fdw_exprs)
		{
			char	   *expr = deparse_expression(lfirst(lc), context, es->verbose, false);
			int			c = i++;

			if (c > 0)
				appendStringInfoString(&buf, " AND ");
			switch ((CondKind) list_nth_int(kinds, c))
			{
				case COND_SERIES_EQ:
					appendStringInfo(&buf, "(series_id = %s)", expr);
					break;
				case COND_SERIES_ANY:
					appendStringInfo(&buf, "(series_id = ANY (%s))", expr);
					break;
				case COND_TIME:
					appendStringInfo(&buf, "(%s %s %s)", quote_identifier("time"),
									 strategy_operator(list_nth_int(strategies, c)), expr);
					break;
			}
		}
		ExplainPropertyText("Chunk Filter", buf.data, es);
	}
	if (es->analyze && st != NULL)
	{
		ExplainPropertyInteger("Chunks Read", NULL, st->chunks_read, es);
		ExplainPropertyInteger("Samples Decoded", NULL, st->samples_decoded, es);
		ExplainPropertyInteger("Samples Returned", NULL, st->samples_returned, es);
	}
}

/* ------------------------------------------------------------------------
 * Handler
 * ------------------------------------------------------------------------
 */

/*
 * The FdwRoutine of promscale_ha_chunks: read-only, so the modify callbacks
 * stay NULL and PostgreSQL refuses INSERT/UPDATE/DELETE on the table.
 */
Datum
pha_chunks_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	routine->GetForeignRelSize = chunks_rel_size;
	routine->GetForeignPaths = chunks_paths;
	routine->GetForeignPlan = chunks_plan;
	routine->BeginForeignScan = chunks_begin;
	routine->IterateForeignScan = chunks_iterate;
	routine->ReScanForeignScan = chunks_rescan;
	routine->EndForeignScan = chunks_end;
	routine->ExplainForeignScan = chunks_explain;
	PG_RETURN_POINTER(routine);
}
