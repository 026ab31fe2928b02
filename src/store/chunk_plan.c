/*-------------------------------------------------------------------------
 *
 * chunk_plan.c
 *	  Planning a scan of promscale_ha.samples_compressed (the planner half of
 *	  the foreign-data wrapper promscale_ha_chunks; chunk_scan.c runs it).
 *
 * The restriction (and, on a parameterized path, join) clauses of the forms
 *		series_id = <expr>			series_id = ANY (<array expr>)	(IN lists too)
 *		time {<,<=,=,>=,>} <expr>	(either operand order)
 * where <expr> holds no Var of this relation, no volatile function and no
 * SubPlan (a Const, a Param, now() - interval '1 hour', an outer column
 * that becomes a nested-loop Param) are "chunk conditions": the scan
 * enforces them exactly, so they leave the local quals.  Everything else is
 * a local filter.  The conditions' expressions go to fdw_exprs, their kind,
 * strategy and argument type to fdw_private (three parallel lists, laid out
 * in chunk_plan.h).
 *
 * Paths: one plain path, costed by the chunks its time range covers (the
 * chunk count from the table's size, the compressed span from
 * promscale_ha.compressed_ranges, read once per planning with a kept plan),
 * and one parameterized path per set of outer relations that can supply
 * series_id (join clauses and EquivalenceClasses, as postgres_fdw does),
 * costed per series at its share of the chunks (about 2), so that a join
 * from a few series runs as a nested loop probing only their chunks.
 *
 * Locks: AccessShareLock on promscale_ha.chunks while sizing it; the span
 * query runs read-only through SPI in the planner's active snapshot, and is
 * skipped (defaults stand) when there is none.
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
#include "executor/spi.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/plancat.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include "sql.h"
#include "store/chunk_plan.h"

/* Planner defaults when the catalogs say nothing. */
#define DEFAULT_SAMPLES_PER_CHUNK	240.0	/* 2 h at 30 s */
#define DEFAULT_CHUNKS_PER_SERIES	2.0
#define DEFAULT_ARRAY_SERIES		10.0

/* One chunk condition: what it constrains, how, and the expression. */
typedef struct ChunkCond
{
	PhaChunkCondKind kind;
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

static SPIPlanPtr span_plan = NULL;

static const char *const span_sql =
"SELECT min(range_start), max(range_end), sum(samples)::float8, sum(chunks)::float8"
" FROM promscale_ha.compressed_ranges";

/* ------------------------------------------------------------------------
 * Classifying clauses
 * ------------------------------------------------------------------------
 */

/* The column (PHA_ATT_SERIES_ID or PHA_ATT_TIME) node is of this rel, else 0. */
static int
own_column(RelOptInfo *rel, Node *node)
{
	Var		   *var = (Var *) node;

	if (node == NULL || !IsA(node, Var) || var->varno != rel->relid ||
		var->varlevelsup != 0)
		return 0;
	if (var->varattno == PHA_ATT_SERIES_ID && var->vartype == INT8OID)
		return PHA_ATT_SERIES_ID;
	if (var->varattno == PHA_ATT_TIME && var->vartype == TIMESTAMPTZOID)
		return PHA_ATT_TIME;
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
	Oid			coltype = attno == PHA_ATT_SERIES_ID ? INT8OID : TIMESTAMPTZOID;
	Oid			opf = lookup_type_cache(coltype, TYPECACHE_BTREE_OPFAMILY)->btree_opf;
	int			strategy;
	Oid			lefttype;
	Oid			righttype;

	if (!OidIsValid(opf) || !OidIsValid(opno) || !op_in_opfamily(opno, opf))
		return 0;
	get_op_opfamily_properties(opno, opf, false, &strategy, &lefttype, &righttype);
	if (lefttype != coltype)
		return 0;
	if (attno == PHA_ATT_TIME && righttype != TIMESTAMPTZOID)
		return 0;
	if (attno == PHA_ATT_SERIES_ID &&
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
		cond->kind = attno == PHA_ATT_SERIES_ID ? PHA_COND_SERIES_EQ : PHA_COND_TIME;
		cond->expr = (Expr *) right;
		return true;
	}
	if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *saop = (ScalarArrayOpExpr *) clause;

		if (!saop->useOr || list_length(saop->args) != 2 ||
			own_column(rel, linitial(saop->args)) != PHA_ATT_SERIES_ID ||
			!usable_operand(root, rel, lsecond(saop->args)))
			return false;
		cond->strategy = column_strategy(PHA_ATT_SERIES_ID, saop->opno, &cond->argtype);
		if (cond->strategy == 0)
			return false;
		cond->kind = PHA_COND_SERIES_ANY;
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

		if (c->kind != PHA_COND_TIME)
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

	if (c->kind == PHA_COND_SERIES_EQ)
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
		if (c.kind == PHA_COND_TIME)
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

	/*
	 * A scan of every series is estimated at two rows at least, so that a
	 * parameterized path (one series: one row when the window holds no
	 * chunk) is not dominated by it.  PostgreSQL cannot re-parameterize a
	 * foreign scan: without a parameterized path here the view samples, an
	 * append of the head and this scan, could not take a join's series_id
	 * into its head partitions' indexes either, and a query of recent time
	 * would read whole head partitions (test/sql/chunk_scan.sql).
	 */
	if (nseries < 0)
		*rows = Max(*rows, 2.0);
	*startup = info->local_cost.startup + 10 * cpu_operator_cost;
	*total = *startup + run;
}

/* ------------------------------------------------------------------------
 * Planner callbacks
 * ------------------------------------------------------------------------
 */

/* GetForeignRelSize: gather the estimates of the rel and its restriction. */
void
pha_chunks_rel_size(PlannerInfo *root, RelOptInfo *rel, Oid foreigntableid)
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
		if (c->kind != PHA_COND_TIME)
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
	return own_column(rel, (Node *) em->em_expr) == PHA_ATT_SERIES_ID;
}

/* The ParamPathInfo for a series join clause ri, added to ppis once. */
static List *
series_param_info(PlannerInfo *root, RelOptInfo *rel, RestrictInfo *ri, List *ppis)
{
	ChunkCond	c;
	Relids		outer;

	if (!join_clause_is_movable_to(ri, rel) ||
		!classify_clause(root, rel, ri->clause, &c) || c.kind == PHA_COND_TIME)
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
void
pha_chunks_paths(PlannerInfo *root, RelOptInfo *rel, Oid foreigntableid)
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
 * fdw_private, laid out as chunk_plan.h says), the rest to the local quals.  scan_clauses holds the
 * path's join clauses too; create_foreignscan_plan turns their outer Vars
 * into nested-loop Params afterwards.
 */
ForeignScan *
pha_chunks_plan(PlannerInfo *root, RelOptInfo *rel, Oid foreigntableid,
				ForeignPath *best_path, List *tlist, List *scan_clauses, Plan *outer_plan)
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
