/*-------------------------------------------------------------------------
 *
 * chunk_explain.c
 *	  EXPLAIN of a scan of promscale_ha.samples_compressed: the "Chunk
 *	  Filter" line, the conditions the scan enforces instead of a filter.
 *
 * The condition expressions in fdw_exprs may hold Params: a nested loop's
 * outer columns, or a SubPlan's arguments.  ruleutils prints a Param as the
 * expression it stands for only when given the plan's ancestors, which
 * ExplainForeignScan does not receive; plan_ancestors rebuilds them from
 * the PlannedStmt the way EXPLAIN walks it (parent plans, and for a plan
 * inside a subplan that SubPlan node, then the plan that evaluates it and
 * its own ancestors).  Read-only: no catalog access beyond ruleutils', no
 * locks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "commands/explain.h"
#include "lib/stringinfo.h"
#include "nodes/nodeFuncs.h"
#include "nodes/plannodes.h"
#include "utils/builtins.h"
#include "utils/ruleutils.h"

#include "store/chunk_explain.h"
#include "store/chunk_plan.h"

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

/* What subplan_owner looks for (a SubPlan's plan_id), and the node it found. */
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
 * The "Chunk Filter" property of a chunk scan's plan fs: its conditions
 * (fdw_exprs, described by fdw_private) joined by AND; nothing without any.
 */
void
pha_chunks_explain_filter(ForeignScan *fs, ExplainState *es)
{
	if (fs->fdw_exprs != NIL)
	{
		List	   *context = set_deparse_context_plan(es->deparse_cxt, (Plan *) fs,
													   plan_ancestors(es->pstmt, (Plan *) fs, 0));
		List	   *kinds = PHA_CHUNK_PRIVATE_KINDS(fs);
		List	   *strategies = PHA_CHUNK_PRIVATE_STRATEGIES(fs);
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
			switch ((PhaChunkCondKind) list_nth_int(kinds, c))
			{
				case PHA_COND_SERIES_EQ:
					appendStringInfo(&buf, "(series_id = %s)", expr);
					break;
				case PHA_COND_SERIES_ANY:
					appendStringInfo(&buf, "(series_id = ANY (%s))", expr);
					break;
				case PHA_COND_TIME:
					appendStringInfo(&buf, "(%s %s %s)", quote_identifier("time"),
									 strategy_operator(list_nth_int(strategies, c)), expr);
					break;
			}
		}
		ExplainPropertyText("Chunk Filter", buf.data, es);
	}
}
