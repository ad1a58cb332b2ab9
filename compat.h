/*-------------------------------------------------------------------------
 *
 * compat.h
 *		Every difference between the PostgreSQL major versions we support
 *		(12 to 18), as small wrappers.  No other file tests PG_VERSION_NUM.
 *
 * Copyright (c) 2026, pg_background contributors
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_BACKGROUND_COMPAT_H
#define PG_BACKGROUND_COMPAT_H

#include "commands/async.h"
#include "nodes/pg_list.h"
#include "storage/shm_mq.h"
#include "tcop/dest.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "utils/portal.h"
#if PG_VERSION_NUM >= 140000
#include "utils/wait_event.h"
#else
#include "pgstat.h"
#endif

#if PG_VERSION_NUM < 120000
#error "pg_background requires PostgreSQL 12 or later"
#endif

/*
 * PostgreSQL 13 (commit 2f9661311b) replaced command tag strings with the
 * CommandTag enum and QueryCompletion.
 */
#if PG_VERSION_NUM >= 130000
typedef CommandTag PgbgCommandTag;
typedef QueryCompletion PgbgQueryCompletion;
#else
typedef const char *PgbgCommandTag;
typedef struct PgbgQueryCompletion
{
	char		tag[COMPLETION_TAG_BUFSIZE];
} PgbgQueryCompletion;
#endif

/*
 * PostgreSQL 13 (commit 1cff1b95ab) rewrote List as an array; lnext() then
 * takes the list as well.
 */
#if PG_VERSION_NUM >= 130000
#define pgbg_lnext(l, lc)	lnext((l), (lc))
#else
#define pgbg_lnext(l, lc)	lnext(lc)
#endif

/*
 * foreach_delete_current() came with 13's array-based List (commit
 * 1cff1b95ab).  In 12, a List is a linked list (12's nodes/pg_list.h: a
 * ListCell holds its data and "next", foreach() steps with cell =
 * lnext(cell), and list_delete_cell(list, cell, prev) needs the previous
 * cell and pfrees the deleted one).  The 12 shim deletes the current cell
 * and leaves the loop variable on the previous cell or, when the head was
 * deleted, on a stand-in cell whose next is the new head: foreach()'s next
 * step then lands on the element that followed the deleted one, as in 13.
 * Only one loop may delete at a time (the stand-in is shared), which holds
 * for our single-level loops.
 */
#if PG_VERSION_NUM < 130000
static inline List *
pgbg_list_delete_current(List *list, ListCell **cell)
{
	static ListCell standin;
	ListCell   *prev = NULL;
	ListCell   *lc;

	for (lc = list_head(list); lc != *cell; lc = lnext(lc))
		prev = lc;
	list = list_delete_cell(list, *cell, prev);
	if (prev != NULL)
		*cell = prev;
	else
	{
		standin.next = list_head(list);
		*cell = &standin;
	}
	return list;
}
#define foreach_delete_current(lst, cell) \
	pgbg_list_delete_current((lst), &(cell))
#endif

/*
 * The TYPALIGN_* names for pg_type.typalign codes came in 13; 12's
 * catalog/pg_type.h documents the same codes as bare characters ('d' =
 * DOUBLE alignment).
 */
#if PG_VERSION_NUM < 130000
#define TYPALIGN_DOUBLE		'd'
#endif

/*
 * PostgreSQL 15 (commit 791b1b71da) renamed pg_analyze_and_rewrite() to
 * pg_analyze_and_rewrite_fixedparams().
 */
static inline List *
pgbg_analyze_and_rewrite(RawStmt *parsetree, const char *sql)
{
#if PG_VERSION_NUM >= 150000
	return pg_analyze_and_rewrite_fixedparams(parsetree, sql, NULL, 0, NULL);
#else
	return pg_analyze_and_rewrite(parsetree, sql, NULL, 0, NULL);
#endif
}

/*
 * pg_plan_queries() gained the query string in 13 (commit 6aba63ef3e).
 */
static inline List *
pgbg_plan_queries(List *querytrees, const char *sql)
{
#if PG_VERSION_NUM >= 130000
	return pg_plan_queries(querytrees, sql, CURSOR_OPT_PARALLEL_OK, NULL);
#else
	return pg_plan_queries(querytrees, CURSOR_OPT_PARALLEL_OK, NULL);
#endif
}

/*
 * PortalDefineQuery() takes a CommandTag from 13 on, a string before; the
 * wrapper only exists to keep worker.c free of the difference.
 */
static inline void
pgbg_portal_define_query(Portal portal, const char *sql,
						 PgbgCommandTag commandTag, List *stmts)
{
	PortalDefineQuery(portal, NULL, sql, commandTag, stmts, NULL);
}

/*
 * Before 15, a backend had to call ProcessCompletedNotifies() after
 * committing for NOTIFY to reach listeners; 15 (commit 9a31ec1a4f) does
 * it at commit time and removed the function.
 */
static inline void
pgbg_process_completed_notifies(void)
{
#if PG_VERSION_NUM < 150000
	ProcessCompletedNotifies();
#endif
}

/*
 * PortalRun() wrote the completion tag into a string before 13, and lost
 * its run_once argument in 18.
 */
static inline void
pgbg_portal_run(Portal portal, bool top_level, DestReceiver *receiver,
				PgbgQueryCompletion *qc)
{
#if PG_VERSION_NUM >= 180000
	(void) PortalRun(portal, FETCH_ALL, top_level, receiver, receiver, qc);
#elif PG_VERSION_NUM >= 130000
	(void) PortalRun(portal, FETCH_ALL, top_level, true, receiver, receiver, qc);
#else
	qc->tag[0] = '\0';
	(void) PortalRun(portal, FETCH_ALL, top_level, true, receiver, receiver,
					 qc->tag);
#endif
}

/* EndCommand() took the tag string before 13. */
static inline void
pgbg_end_command(PgbgQueryCompletion *qc, CommandDest dest)
{
#if PG_VERSION_NUM >= 130000
	EndCommand(qc, dest, false);
#else
	EndCommand(qc->tag, dest);
#endif
}

/*
 * shm_mq_sendv() gained its force_flush argument in PostgreSQL 15.  A
 * non-blocking send of a worker's last message wants its bytes visible to
 * the receiver at once.
 */
static inline shm_mq_result
pgbg_shm_mq_sendv_nowait(shm_mq_handle *mqh, shm_mq_iovec *iov, int iovcnt)
{
#if PG_VERSION_NUM >= 150000
	return shm_mq_sendv(mqh, iov, iovcnt, true, true);
#else
	return shm_mq_sendv(mqh, iov, iovcnt, true);
#endif
}

/*
 * PostgreSQL 15 (commit 88103567cb) renamed EmitWarningsOnPlaceholders() to
 * MarkGUCPrefixReserved(), which also removes existing placeholders.
 */
#if PG_VERSION_NUM >= 150000
#define pgbg_reserve_guc_prefix(prefix) MarkGUCPrefixReserved(prefix)
#else
#define pgbg_reserve_guc_prefix(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

/*
 * The wait event an idle pool worker waits with (pool.c, worker.c); other
 * sessions find idle pool workers by it.  From 17 on an event of the
 * Extension class must be registered by name, or pg_stat_activity fails
 * to name it; before 17 every event of the class shows as "Extension".
 */
static inline uint32
pgbg_pool_idle_event(void)
{
#if PG_VERSION_NUM >= 170000
	static uint32 event = 0;

	if (event == 0)
		event = WaitEventExtensionNew("PgBackgroundPoolIdle");
	return event;
#else
	return PG_WAIT_EXTENSION | 0x5042;
#endif
}

#endif							/* PG_BACKGROUND_COMPAT_H */
