/*-------------------------------------------------------------------------
 *
 * worker.c
 *		The background worker: attach to the launcher's segment, send every
 *		protocol message into its shm_mq, become the caller (database,
 *		users, security context, GUCs), run the SQL statement by statement,
 *		and exit.
 *
 * The order of the identity restore follows parallel.c: connect as the
 * authenticated user, restore GUCs (which restores session_authorization),
 * then the role of SET ROLE, then the current user and security context.
 *
 * Copyright (c) 2026, pg_background contributors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/printtup.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "libpq/libpq.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/shm_toc.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/typcache.h"
#include "utils/timeout.h"

#include "pg_background.h"
#include "compat.h"

static PgbgFixed *worker_fixed = NULL;

static void worker_attach(dsm_handle handle, char **sql, char **gucstate);
static void worker_become_caller(char *gucstate);
static void worker_start_xact(void);
static void worker_commit_xact(void);
static void worker_execute(const char *sql);
static void worker_run_statement(RawStmt *parsetree, const char *sql,
								 bool is_last, MemoryContext stmt_context);
static void worker_refuse_statement(Node *stmt);
static void worker_set_formats(Portal portal);
static bool worker_binary_safe(Oid typid, int32 typmod, int depth);
static bool worker_rowtype_binary_safe(TupleDesc tupdesc, int depth);
static void worker_check_cancel(void);
static void worker_error_context(void *arg);
static void worker_start_timeout(void);
static void worker_timeout_handler(void);
static void worker_stamp_finish(int code, Datum arg);

/*
 * Entry point, called from pg_background_worker_main.
 */
void
pgbg_worker_run(dsm_handle handle)
{
	ResourceOwner owner;
	ErrorContextCallback errcallback;
	char	   *sql;
	char	   *gucstate;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	/*
	 * The segment mapping needs a resource owner while attaching; we pin the
	 * mapping right away so the owner holds nothing and can be released and
	 * deleted cleanly before exit.
	 */
	owner = ResourceOwnerCreate(NULL, "pg_background worker");
	CurrentResourceOwner = owner;

	worker_attach(handle, &sql, &gucstate);

	/* From here on every error is also reported to the launcher. */
	errcallback.callback = worker_error_context;
	errcallback.arg = NULL;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	worker_become_caller(gucstate);
	worker_start_timeout();

	{
		char		appname[NAMEDATALEN];

		/* 1.9: pg_background:<label>:<pid>, or pg_background:<pid> */
		pgbg_format_appname(appname, sizeof(appname), worker_fixed->label,
							MyProcPid);
		pgstat_report_appname(appname);
	}
	pgstat_report_activity(STATE_RUNNING, sql);

	worker_execute(sql);

	/* Tell the launcher we finished normally. */
	ReadyForQuery(DestRemote);

	pgstat_report_activity(STATE_IDLE, NULL);
	pgstat_report_stat(true);

	error_context_stack = errcallback.previous;

	/* release our resource owner before exiting (nothing is left in it) */
	CurrentResourceOwner = owner;
	ResourceOwnerRelease(owner, RESOURCE_RELEASE_BEFORE_LOCKS, true, true);
	ResourceOwnerRelease(owner, RESOURCE_RELEASE_LOCKS, true, true);
	ResourceOwnerRelease(owner, RESOURCE_RELEASE_AFTER_LOCKS, true, true);
	CurrentResourceOwner = NULL;
	ResourceOwnerDelete(owner);
}

/*
 * Map the segment, unpin it (we now hold a reference), attach to the queue
 * as its sender and redirect the frontend/backend protocol into it.
 */
static void
worker_attach(dsm_handle handle, char **sql, char **gucstate)
{
	dsm_segment *seg;
	shm_toc    *toc;
	shm_mq	   *mq;
	shm_mq_handle *mqh;
	bool		unpin;

	seg = dsm_attach(handle);
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_background worker could not map its dynamic shared memory segment")));
	dsm_pin_mapping(seg);

	toc = shm_toc_attach(PGBG_MAGIC, dsm_segment_address(seg));
	if (toc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bad magic number in pg_background dynamic shared memory segment")));

	worker_fixed = shm_toc_lookup(toc, PGBG_KEY_FIXED, false);
	before_shmem_exit(worker_stamp_finish, (Datum) 0);
	*sql = shm_toc_lookup(toc, PGBG_KEY_SQL, false);
	*gucstate = shm_toc_lookup(toc, PGBG_KEY_GUC, false);
	mq = shm_toc_lookup(toc, PGBG_KEY_QUEUE, false);

	SpinLockAcquire(&worker_fixed->mutex);
	unpin = worker_fixed->segment_pinned;
	worker_fixed->segment_pinned = false;
	worker_fixed->worker_pid = MyProcPid;
	SpinLockRelease(&worker_fixed->mutex);
	if (unpin)
		dsm_unpin_segment(handle);

	shm_mq_set_sender(mq, MyProc);
	mqh = shm_mq_attach(mq, seg, NULL);
	pq_redirect_to_shm_mq(seg, mqh);
}

/*
 * Connect to the caller's database as the caller and restore its GUCs,
 * role and security context.
 */
static void
worker_become_caller(char *gucstate)
{
	PgbgFixed  *fixed = worker_fixed;
	bool		outer_is_superuser = false;

	BackgroundWorkerInitializeConnectionByOid(fixed->database_id,
											  fixed->authenticated_user_id,
											  0);

	StartTransactionCommand();
	RestoreGUCState(gucstate);

	/*
	 * The caller's statement_timeout limits the caller's own statement; the
	 * background job starts without one (its SQL may SET its own).
	 */
	SetConfigOption("statement_timeout", "0", PGC_USERSET, PGC_S_SESSION);

	/*
	 * A submitted worker's output is never read, so it must not fill its
	 * queue with notices: only its error goes out (for list_v2's
	 * last_error).  The override source keeps a SET in its SQL from
	 * undoing this.
	 */
	if (fixed->results_disabled)
		SetConfigOption("client_min_messages", "error", PGC_SUSET,
						PGC_S_OVERRIDE);

	if (OidIsValid(fixed->outer_user_id))
		outer_is_superuser = superuser_arg(fixed->outer_user_id);
	CommitTransactionCommand();

	/*
	 * Rows travel in the database encoding; the launcher decodes them with
	 * the server's own input functions.
	 */
	SetClientEncoding(GetDatabaseEncoding());

	/*
	 * RestoreGUCState skips "role", as for parallel workers.  The caller's
	 * current user and security context are put on inside each transaction
	 * of the job (worker_start_xact).
	 */
	if (OidIsValid(fixed->outer_user_id))
		SetCurrentRoleId(fixed->outer_user_id, outer_is_superuser);
}

/*
 * Start a transaction of the job and take on the caller's current user and
 * security context (a SECURITY DEFINER function's owner, say) inside it, as
 * a parallel worker does.  A security context must not outlive its
 * transaction (StartTransaction insists on none being set), so
 * worker_commit_xact takes it off again.
 */
static void
worker_start_xact(void)
{
	StartTransactionCommand();
	SetUserIdAndSecContext(worker_fixed->current_user_id,
						   worker_fixed->sec_context);
}

static void
worker_commit_xact(void)
{
	CommitTransactionCommand();
	SetUserIdAndSecContext(GetOuterUserId(), 0);
}

/*
 * Run every statement of the string in one transaction.  A statement that
 * must run outside a transaction block (VACUUM, CREATE INDEX CONCURRENTLY)
 * commits the work before it, as in a simple-query string.
 */
static void
worker_execute(const char *sql)
{
	MemoryContext parse_context;
	MemoryContext stmt_context;
	MemoryContext oldcontext;
	List	   *parsetrees;
	ListCell   *lc;

	SpinLockAcquire(&worker_fixed->mutex);
	worker_fixed->started_at = GetCurrentTimestamp();
	SpinLockRelease(&worker_fixed->mutex);

	worker_start_xact();

	/* both survive the commits that VACUUM and friends make */
	parse_context = AllocSetContextCreate(TopMemoryContext,
										  "pg_background parse",
										  ALLOCSET_DEFAULT_SIZES);
	stmt_context = AllocSetContextCreate(TopMemoryContext,
										 "pg_background statement",
										 ALLOCSET_DEFAULT_SIZES);
	oldcontext = MemoryContextSwitchTo(parse_context);
	parsetrees = pg_parse_query(sql);
	MemoryContextSwitchTo(oldcontext);

	foreach(lc, parsetrees)
	{
		RawStmt    *parsetree = lfirst_node(RawStmt, lc);

		worker_check_cancel();
		if (!IsTransactionState())
			worker_start_xact();
		worker_run_statement(parsetree, sql, pgbg_lnext(parsetrees, lc) == NULL,
							 stmt_context);
	}

	worker_check_cancel();
	if (IsTransactionState())
		worker_commit_xact();

	/*
	 * Tell the launcher the work is durable: if we are terminated before
	 * our final message gets out, it must not report the work as lost.
	 */
	SpinLockAcquire(&worker_fixed->mutex);
	worker_fixed->committed = true;
	SpinLockRelease(&worker_fixed->mutex);
	pgbg_process_completed_notifies();
	MemoryContextDelete(stmt_context);
	MemoryContextDelete(parse_context);
}

/*
 * Plan and run one statement, modelled on exec_simple_query().  Only the
 * last statement sends rows; every statement sends its command tag.
 */
static void
worker_run_statement(RawStmt *parsetree, const char *sql, bool is_last,
					 MemoryContext stmt_context)
{
	PgbgCommandTag commandTag;
	bool		snapshot_set = false;
	List	   *querytrees;
	List	   *plantrees;
	Portal		portal;
	DestReceiver *receiver;
	CommandDest dest;
	PgbgQueryCompletion qc;
	MemoryContext oldcontext;

	worker_refuse_statement(parsetree->stmt);

	commandTag = CreateCommandTag(parsetree->stmt);
	dest = worker_fixed->results_disabled ? DestNone : DestRemote;
	BeginCommand(commandTag, dest);

	if (analyze_requires_snapshot(parsetree))
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		snapshot_set = true;
	}

	oldcontext = MemoryContextSwitchTo(stmt_context);
	querytrees = pgbg_analyze_and_rewrite(parsetree, sql);
	plantrees = pgbg_plan_queries(querytrees, sql);
	MemoryContextSwitchTo(oldcontext);

	if (snapshot_set)
		PopActiveSnapshot();

	CHECK_FOR_INTERRUPTS();

	portal = CreatePortal("", true, true);
	portal->visible = false;
	pgbg_portal_define_query(portal, sql, commandTag, plantrees);
	PortalStart(portal, NULL, 0, InvalidSnapshot);
	worker_set_formats(portal);

	/*
	 * The receiver must survive the commits VACUUM and its kind make inside
	 * PortalRun, so it lives in the statement context, not the transaction.
	 */
	oldcontext = MemoryContextSwitchTo(stmt_context);
	receiver = CreateDestReceiver(is_last ? dest : DestNone);
	if (is_last && dest == DestRemote)
		SetRemoteDestReceiverParams(receiver, portal);
	MemoryContextSwitchTo(oldcontext);

	if (StatementTimeout > 0)
		enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);

	/*
	 * SQL launched inside a security context (from a SECURITY DEFINER
	 * function, say) runs as if inside that function, not at top level: what
	 * cannot run in a function (VACUUM, COMMIT in a procedure) is refused
	 * there too, and no statement commits while the context is on.
	 */
	pgbg_portal_run(portal, worker_fixed->sec_context == 0, receiver, &qc);
	disable_timeout(STATEMENT_TIMEOUT, false);

	receiver->rDestroy(receiver);
	PortalDrop(portal, false);

	if (MyXactFlags & XACT_FLAGS_NEEDIMMEDIATECOMMIT)
		worker_commit_xact();
	else
		CommandCounterIncrement();

	pgbg_end_command(&qc, dest);
	MemoryContextReset(stmt_context);
}

/*
 * Transaction control would break the one-transaction model (and COMMIT
 * would let half of a cancelled job survive); COPY to or from the client
 * has no client to talk to.
 */
static void
worker_refuse_statement(Node *stmt)
{
	if (IsA(stmt, TransactionStmt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("transaction control statements are not allowed in pg_background"),
				 errhint("The SQL of a background worker runs in its own transaction; send separate launches for separate transactions.")));

	if (IsA(stmt, CopyStmt) && ((CopyStmt *) stmt)->filename == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("COPY to or from the client is not supported in pg_background"),
				 errhint("Use COPY with a file name, or INSERT ... SELECT.")));
}

/*
 * Send each column in binary when its type can be sent and received that
 * way, otherwise in text: the launcher sees the choice in the row
 * description.
 */
static void
worker_set_formats(Portal portal)
{
	TupleDesc	tupdesc = portal->tupDesc;
	int16	   *formats;
	int			i;

	if (tupdesc == NULL || tupdesc->natts == 0)
		return;

	formats = palloc(sizeof(int16) * tupdesc->natts);
	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		formats[i] = worker_binary_safe(att->atttypid, att->atttypmod, 0) ? 1 : 0;
	}
	PortalSetResultFormat(portal, tupdesc->natts, formats);
	pfree(formats);
}

/*
 * Can a value of this type go in binary?  The type needs send and receive
 * functions, and so does everything inside it: array elements, the columns
 * of a composite (also of an anonymous record whose row type we know
 * here), a range's subtype.
 */
static bool
worker_binary_safe(Oid typid, int32 typmod, int depth)
{
	HeapTuple	tup;
	Form_pg_type typ;
	bool		ok;
	Oid			elem;
	char		typtype;
	int16		typlen;

	if (depth > 32)
		return false;
	typid = getBaseTypeAndTypmod(typid, &typmod);
	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tup))
		return false;
	typ = (Form_pg_type) GETSTRUCT(tup);
	ok = OidIsValid(typ->typsend) && OidIsValid(typ->typreceive);
	elem = typ->typelem;
	typtype = typ->typtype;
	typlen = typ->typlen;
	ReleaseSysCache(tup);

	if (!ok)
		return false;
	if (OidIsValid(elem) && typlen == -1)
		return worker_binary_safe(elem, -1, depth + 1);
	if (typtype == TYPTYPE_RANGE)
		return worker_binary_safe(get_range_subtype(typid), -1, depth + 1);
	if (typtype == TYPTYPE_COMPOSITE || (typid == RECORDOID && typmod >= 0))
	{
		TupleDesc	rowdesc = lookup_rowtype_tupdesc(typid, typmod);

		ok = worker_rowtype_binary_safe(rowdesc, depth + 1);
		ReleaseTupleDesc(rowdesc);
	}
	return ok;
}

static bool
worker_rowtype_binary_safe(TupleDesc tupdesc, int depth)
{
	int			i;

	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (!att->attisdropped &&
			!worker_binary_safe(att->atttypid, att->atttypmod, depth))
			return false;
	}
	return true;
}

/*
 * Between statements: stop before doing (or committing) anything more once
 * the launcher asked us to cancel, even if its SIGTERM has not arrived.
 */
static void
worker_check_cancel(void)
{
	CHECK_FOR_INTERRUPTS();
	if (pg_atomic_read_u32(&worker_fixed->cancel_requested) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("pg_background worker canceled by its launcher")));
}

/* One context line naming the worker, on every error it raises. */
static void
worker_error_context(void *arg)
{
	errcontext("pg_background worker with PID %d", MyProcPid);
}

/*
 * pg_background.worker_timeout, as the caller had it at launch, limits the
 * whole run.  When it fires the worker dies as if terminated (a FATAL that
 * no exception block in the user's SQL can catch); the flag tells the
 * launcher why.
 */
static void
worker_start_timeout(void)
{
	TimeoutId	id;

	if (worker_fixed->timeout_ms <= 0)
		return;
	id = RegisterTimeout(USER_TIMEOUT, worker_timeout_handler);
	enable_timeout_after(id, worker_fixed->timeout_ms);
}

static void
worker_timeout_handler(void)
{
	pg_atomic_write_u32(&worker_fixed->timed_out, 1);
	ProcDiePending = true;
	InterruptPending = true;
	SetLatch(MyLatch);
}

/* Record when we finished, however we finish (the segment is still mapped). */
static void
worker_stamp_finish(int code, Datum arg)
{
	SpinLockAcquire(&worker_fixed->mutex);
	worker_fixed->finished_at = GetCurrentTimestamp();
	SpinLockRelease(&worker_fixed->mutex);
}

/*
 * pg_background_progress(): called by the SQL a worker runs, to tell its
 * launcher how far it got.
 */
void
pgbg_worker_report_progress(int32 pct, const char *msg)
{
	int			len = 0;

	if (worker_fixed == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_background_progress() can only be called by SQL running in a pg_background worker")));
	if (pct < 0 || pct > 100)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("progress percentage %d is out of range", pct),
				 errdetail("It must be between 0 and 100.")));
	if (msg != NULL)
		len = pg_mbcliplen(msg, strlen(msg), PGBG_PROGRESS_MSG_LEN - 1);

	SpinLockAcquire(&worker_fixed->mutex);
	worker_fixed->has_progress = true;
	worker_fixed->has_progress_msg = (msg != NULL);
	worker_fixed->progress_pct = pct;
	if (msg != NULL)
		memcpy(worker_fixed->progress_msg, msg, len);
	worker_fixed->progress_msg[len] = '\0';
	SpinLockRelease(&worker_fixed->mutex);
}
