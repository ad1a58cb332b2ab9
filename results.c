/*-------------------------------------------------------------------------
 *
 * results.c
 *		The launcher's reading of a worker's messages: the local buffer that
 *		keeps a worker from blocking on a full queue while its caller waits,
 *		notices passed on, errors remembered, and the result read itself.
 *
 * A result read first buffers messages until it knows the shape of the
 * result (a row description, an error, or the end of the stream), so a
 * column definition list that does not fit is refused before anything is
 * consumed.  Then it decodes the buffer, then the rest of the queue.
 *
 * Copyright (c) 2026, pg_background contributors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "pg_background.h"

/* Row type of the buffered messages: one bytea, the type byte first. */
static TupleDesc pgbg_buffer_desc = NULL;

/* What a result read is building. */
typedef struct PgbgResultState
{
	PgbgTask   *task;
	bool		tags_only;		/* no rows: return command tags */
	bool		skip_rows;		/* the worker failed: only its error matters */
	TupleDesc	tupdesc;
	Tuplestorestate *tupstore;
	FmgrInfo   *finfo;
	Oid		   *typioparams;
	Datum	   *values;
	bool	   *nulls;
	struct PgbgTupleDecoder *tuples;	/* for rows sent as tuples */
} PgbgResultState;

static MemoryContext results_message_context(PgbgTask *task);
static bool results_pump_one(PgbgTask *task, bool nowait);
static void results_read(PgbgTask *task, FunctionCallInfo fcinfo);
static void results_read_and_release(PgbgTask *task, void *arg);
static void results_check_buffer_complete(PgbgTask *task);
static bool results_receive(PgbgTask *task, bool nowait, PgbgMessage *msg);
static void results_buffer_message(PgbgTask *task, PgbgMessage *msg);
static bool results_buffer_next(PgbgTask *task, PgbgMessage *msg);
static void results_note_error(PgbgTask *task, PgbgMessage *msg);
static bool results_late_termination(PgbgTask *task, PgbgMessage *msg);
static void results_emit_notice(PgbgTask *task, PgbgMessage *msg);
static void results_note_rowdesc(PgbgTask *task, PgbgMessage *msg);
static void results_fill_until_rowdesc(PgbgTask *task);
static void results_consume(PgbgResultState *state, PgbgMessage *msg);
static void results_raise_worker_error(PgbgTask *task, PgbgMessage *msg);
static void results_raise_lost(PgbgTask *task);
static void results_raise_stopped(PgbgTask *task);
static void results_throw(ErrorData *edata);
static int	results_partial_commits(PgbgTask *task);

/* ------------------------------------------------------------------------
 * Reading the worker's messages
 * ------------------------------------------------------------------------
 */

/*
 * Read one message.  Returns false when nothing is available (nowait) or
 * the stream has ended; a blocking read waits on our latch inside
 * shm_mq_receive and checks for interrupts.
 */
static bool
results_receive(PgbgTask *task, bool nowait, PgbgMessage *msg)
{
	shm_mq_result res;
	Size		nbytes;
	void	   *data;

	if (task->stream_ended || task->mqh == NULL)
		return false;

	CHECK_FOR_INTERRUPTS();
	res = shm_mq_receive(task->mqh, &nbytes, &data, nowait);
	if (res == SHM_MQ_WOULD_BLOCK)
		return false;
	if (res == SHM_MQ_DETACHED)
	{
		bool		committed;

		/*
		 * A worker that committed and was then stopped before its final
		 * message got through (blocked on a full queue, say) did finish its
		 * work: count the stream as complete.  Everything it sent before
		 * the commit has been read by now.
		 */
		SpinLockAcquire(&task->fixed->mutex);
		committed = task->fixed->committed;
		SpinLockRelease(&task->fixed->mutex);
		task->stream_ended = true;
		if (committed)
			task->saw_end = true;
		return false;
	}
	if (nbytes < 1 || nbytes > (Size) PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("invalid message size %zu from pg_background worker with PID %d",
						nbytes, task->pid)));

	msg->type = ((const char *) data)[0];
	msg->data = (const char *) data + 1;
	msg->len = (int) nbytes - 1;
	if (msg->type == 'Z')
	{
		task->stream_ended = true;
		task->saw_end = true;
	}
	return true;
}

/*
 * Memory lifetimes (DESIGN.md): everything decoded from one message --
 * a parsed notice, a row's values before they go into the result -- lives
 * in this context, which is reset before and after each message, so the
 * caller's memory stays flat however many rows or notices go by.  It is
 * the task's own: only a reader that has pinned the task resets it, so
 * user code run meanwhile (which may read another task) cannot reset it
 * under us.
 */
static MemoryContext
results_message_context(PgbgTask *task)
{
	if (task->msgcxt == NULL)
		task->msgcxt = AllocSetContextCreate(task->cxt,
											 "pg_background message",
											 ALLOCSET_DEFAULT_SIZES);
	return task->msgcxt;
}

/*
 * Read one message into the local buffer (notices are passed on at once).
 * Returns false when no message was read.  The caller has pinned the task.
 */
bool
pgbg_pump(PgbgTask *task, bool nowait)
{
	MemoryContext msgcxt = results_message_context(task);
	MemoryContext oldcxt;
	bool		got;

	/* an ERROR may have left the previous message's memory behind */
	MemoryContextReset(msgcxt);
	oldcxt = MemoryContextSwitchTo(msgcxt);
	got = results_pump_one(task, nowait);
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(msgcxt);
	return got;
}

static bool
results_pump_one(PgbgTask *task, bool nowait)
{
	PgbgMessage msg;

	if (!results_receive(task, nowait, &msg))
		return false;

	switch (msg.type)
	{
		case 'N':
			results_emit_notice(task, &msg);
			break;
		case 'E':
			if (results_late_termination(task, &msg))
				break;
			results_note_error(task, &msg);
			pgbg_note_error_raw(task, &msg);
			task->has_error = true;
			if (!task->results_disabled)
				results_buffer_message(task, &msg);
			break;
		case 'T':
			results_note_rowdesc(task, &msg);
			if (!task->results_disabled)
				results_buffer_message(task, &msg);
			break;
		case 'A':				/* notifications, parameter status: ignored */
		case 'S':
			break;
		case 'C':
			pgbg_note_tag(task, &msg);
			if (!task->results_disabled)
				results_buffer_message(task, &msg);
			break;
		default:
			if (!task->results_disabled)
				results_buffer_message(task, &msg);
			break;
	}
	return true;
}

/* Append a message to the task's buffer, which spills to disk if large. */
static void
results_buffer_message(PgbgTask *task, PgbgMessage *msg)
{
	MemoryContext oldcxt;
	bytea	   *b;
	Datum		value;
	bool		isnull = false;

	/*
	 * Errors at any line: the message has left the queue, so an ERROR
	 * before it is stored (out of memory, temp_file_limit while the
	 * tuplestore writes its file) loses it, and may leave the tuplestore
	 * half-written.  The flag stays set if we do not get to the end, and a
	 * later read refuses to return what is left as if it were complete.
	 */
	task->buffer_incomplete = true;
	oldcxt = MemoryContextSwitchTo(task->cxt);
	b = palloc(VARHDRSZ + 1 + msg->len);

	if (pgbg_buffer_desc == NULL)
	{
		MemoryContextSwitchTo(TopMemoryContext);
		pgbg_buffer_desc = CreateTemplateTupleDesc(1);
		TupleDescInitEntry(pgbg_buffer_desc, 1, "msg", BYTEAOID, -1, 0);
		MemoryContextSwitchTo(task->cxt);
	}
	if (task->buffer == NULL)
	{
		ResourceOwner oldowner = CurrentResourceOwner;

		/*
		 * Memory lifetimes: the buffer outlives the statement and the
		 * transaction that fill it.  interXact keeps its temporary file
		 * open at transaction end; and the tuplestore would remember the
		 * current resource owner (a portal's, gone at transaction end) to
		 * make that file under: give it none, as interXact files have none.
		 * The store itself and its slot live in the task's context.
		 */
		CurrentResourceOwner = NULL;
		task->buffer = tuplestore_begin_heap(false, true, work_mem);
		CurrentResourceOwner = oldowner;
		task->buffer_slot = MakeSingleTupleTableSlot(pgbg_buffer_desc,
													 &TTSOpsMinimalTuple);
	}

	SET_VARSIZE(b, VARHDRSZ + 1 + msg->len);
	VARDATA(b)[0] = msg->type;
	memcpy(VARDATA(b) + 1, msg->data, msg->len);
	value = PointerGetDatum(b);
	tuplestore_putvalues(task->buffer, pgbg_buffer_desc, &value, &isnull);
	pfree(b);
	task->buffered++;
	MemoryContextSwitchTo(oldcxt);
	task->buffer_incomplete = false;
}

/*
 * Take the oldest buffered message; its data lives until the next call.
 *
 * Memory lifetimes: once the buffer has spilled to disk, each tuple read
 * back is allocated in the current memory context and the slot owns it
 * until the next read or until the task is freed.  The slot lives as long
 * as the task, so the tuple must too: read it in the task's context, never
 * in the statement's (a read that fails part-way would otherwise leave the
 * slot holding freed memory, freed again at detach).
 */
static bool
results_buffer_next(PgbgTask *task, PgbgMessage *msg)
{
	bytea	   *b;
	bool		isnull;
	bool		found;
	MemoryContext oldcxt;

	if (task->buffered == 0)
		return false;
	oldcxt = MemoryContextSwitchTo(task->cxt);
	found = tuplestore_gettupleslot(task->buffer, true, false,
									task->buffer_slot);
	MemoryContextSwitchTo(oldcxt);
	if (!found)
		return false;
	task->buffered--;
	b = DatumGetByteaPP(slot_getattr(task->buffer_slot, 1, &isnull));
	msg->type = VARDATA_ANY(b)[0];
	msg->data = VARDATA_ANY(b) + 1;
	msg->len = VARSIZE_ANY_EXHDR(b) - 1;
	return true;
}

/*
 * A worker terminated (by cancel or pg_terminate_backend) after its SQL
 * committed, but before it could say so, has still finished its work: treat
 * that as the normal end of the stream, not as a failure.
 */
static bool
results_late_termination(PgbgTask *task, PgbgMessage *msg)
{
	ErrorData	edata;
	bool		committed;

	SpinLockAcquire(&task->fixed->mutex);
	committed = task->fixed->committed;
	SpinLockRelease(&task->fixed->mutex);
	if (!committed ||
		!pgbg_parse_errornotice(msg->data, msg->len, &edata) ||
		edata.sqlerrcode != ERRCODE_ADMIN_SHUTDOWN)
		return false;

	task->stream_ended = true;
	task->saw_end = true;
	return true;
}

/*
 * Remember the worker's error message for pg_background_list_v2(), and
 * whether part of its work had committed before it (the worker has made
 * all its commits by the time its error arrives).
 */
static void
results_note_error(PgbgTask *task, PgbgMessage *msg)
{
	MemoryContext oldcxt;
	ErrorData	edata;
	const char *text = "malformed error message from worker";
	char	   *suffix = "";
	int			commits = results_partial_commits(task);
	size_t		len;
	size_t		room;

	/* parsed in the message context; only the text is kept */
	if (pgbg_parse_errornotice(msg->data, msg->len, &edata))
		text = edata.message;
	if (commits > 0)
		suffix = psprintf(" (part of its work had already committed: %d %s)",
						  commits, commits == 1 ? "commit" : "commits");
	oldcxt = MemoryContextSwitchTo(task->cxt);
	len = strlen(text);
	room = PGBG_LAST_ERROR_LEN - strlen(suffix);
	if (task->last_error)
		pfree(task->last_error);
	if (len <= room)
		task->last_error = psprintf("%s%s", text, suffix);
	else
	{
		int			keep = pg_mbcliplen(text, len, room - 3);

		task->last_error = psprintf("%.*s...%s", keep, text, suffix);
	}
	if (commits > 0)
		pfree(suffix);
	MemoryContextSwitchTo(oldcxt);
}

/*
 * How many transactions of a worker that did not finish had committed
 * changes (a procedure's COMMIT, the commits around a VACUUM); 0 once its
 * whole SQL has committed.
 */
static int
results_partial_commits(PgbgTask *task)
{
	int			commits;

	SpinLockAcquire(&task->fixed->mutex);
	commits = task->fixed->committed ? 0 : task->fixed->commits;
	SpinLockRelease(&task->fixed->mutex);
	return commits;
}

/* Parse the row description once, when it arrives. */
static void
results_note_rowdesc(PgbgTask *task, PgbgMessage *msg)
{
	MemoryContext oldcxt = MemoryContextSwitchTo(task->cxt);
	char	   *why = NULL;
	bool		ok;

	ok = pgbg_parse_rowdesc(msg->data, msg->len, &task->rowdesc, &why);
	MemoryContextSwitchTo(oldcxt);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("invalid row description from pg_background worker with PID %d",
						task->pid),
				 errdetail_internal("%s", why)));
	task->has_rowdesc = true;
}

/* Pass a worker's notice or warning on to our client. */
static void
results_emit_notice(PgbgTask *task, PgbgMessage *msg)
{
	ErrorData	edata;

	if (!pgbg_parse_errornotice(msg->data, msg->len, &edata))
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("malformed notice from pg_background worker with PID %d",
						task->pid)));
	if (edata.elevel >= ERROR)
		edata.elevel = WARNING;
	edata.cursorpos = 0;
	ThrowErrorData(&edata);
}

/* ------------------------------------------------------------------------
 * Results
 * ------------------------------------------------------------------------
 */


/*
 * Buffer messages until we know what the result looks like: a row
 * description, an error, or the end of the stream (command tags only).
 * Nothing is consumed, so a wrong column definition list can be corrected
 * and the read repeated.
 */
static void
results_fill_until_rowdesc(PgbgTask *task)
{
	while (!task->has_rowdesc && !task->has_error && !task->stream_ended)
		(void) pgbg_pump(task, false);
}

/*
 * pg_background_result and pg_background_result_v2: return everything the
 * worker sent, then forget the task.
 */
void
pgbg_result(PgbgTask *task, FunctionCallInfo fcinfo)
{
	pgbg_with_task_pinned(task, results_read_and_release, fcinfo);
}

/* With the task pinned: read it, then release it (once unpinned). */
static void
results_read_and_release(PgbgTask *task, void *arg)
{
	results_read(task, (FunctionCallInfo) arg);
	pgbg_release_task(task);
}

/*
 * An ERROR interrupted storing one of the task's messages (see
 * results_buffer_message): what is left is not its result.
 */
static void
results_check_buffer_complete(PgbgTask *task)
{
	if (task->buffer_incomplete)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("results of pg_background worker with PID %d are incomplete",
						task->pid),
				 errdetail("An error in this session interrupted storing them."),
				 errhint("Detach the handle with pg_background_detach_v2(); this does not affect the worker.")));
}

/* The body of pgbg_result, with the task pinned. */
static void
results_read(PgbgTask *task, FunctionCallInfo fcinfo)
{
	PgbgResultState state;
	PgbgMessage msg;
	MemoryContext msgcxt = results_message_context(task);
	MemoryContext oldcxt = CurrentMemoryContext;
	int			natts;

	if (task->results_disabled)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_background worker with PID %d has no results to read",
						task->pid),
				 errdetail("It was started with pg_background_submit_v2(), which discards results."),
				 errhint("Use pg_background_wait_v2() to wait for it, or pg_background_launch_v2() to read results.")));
	if (task->consumed)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("results of pg_background worker with PID %d were already read",
						task->pid),
				 errhint("Detach the handle with pg_background_detach_v2().")));

	MemSet(&state, 0, sizeof(state));
	state.task = task;
	results_check_buffer_complete(task);
	(void) pgbg_materialize(fcinfo, &state.tupdesc, &state.tupstore);

	results_fill_until_rowdesc(task);

	/*
	 * A worker that has already failed (a cancelled one, typically) reports
	 * its error whatever the column definition list says: the error is its
	 * result.  Draining a stopped worker's queue is bounded by its size.
	 */
	if (task->has_rowdesc && !task->has_error)
		(void) pgbg_task_finished(task);
	if (task->has_error)
		state.skip_rows = true;
	else if (task->has_rowdesc)
		pgbg_check_rowtype(&task->rowdesc, state.tupdesc);
	else if (!task->has_error)
	{
		if (!task->saw_end)
			results_raise_lost(task);
		state.tags_only = true;
		pgbg_check_tag_rowtype(state.tupdesc);
	}

	/* the column definition list fits: from here on we consume */
	task->consumed = true;
	natts = state.tupdesc->natts;
	state.values = palloc(sizeof(Datum) * Max(natts, 1));
	state.nulls = palloc(sizeof(bool) * Max(natts, 1));
	if (task->has_rowdesc && !state.skip_rows)
	{
		state.finfo = palloc0(sizeof(FmgrInfo) * Max(natts, 1));
		state.typioparams = palloc0(sizeof(Oid) * Max(natts, 1));
		pgbg_prepare_decoders(&task->rowdesc, state.tupdesc, state.finfo,
							  state.typioparams);
		state.tuples = pgbg_prepare_tuple_decoder(&task->rowdesc,
												  state.tupdesc);
	}
	else if (state.tags_only)
	{
		state.finfo = palloc0(sizeof(FmgrInfo));
		state.typioparams = palloc0(sizeof(Oid));
		pgbg_prepare_tag_decoder(state.tupdesc, state.finfo,
								 state.typioparams);
	}

	/*
	 * Decoding runs in the task's message context, reset before each
	 * message: what a row needs before it is copied into the result (and
	 * what a notice needs before it is passed on) goes with it.  A failed
	 * read leaves at most one message's worth behind, reset by the next
	 * reader or freed with the task.
	 */
	for (;;)
	{
		MemoryContextReset(msgcxt);
		MemoryContextSwitchTo(msgcxt);
		if (!results_buffer_next(task, &msg))
			break;
		results_consume(&state, &msg);
	}
	for (;;)
	{
		MemoryContextReset(msgcxt);
		MemoryContextSwitchTo(msgcxt);
		if (!results_receive(task, false, &msg))
			break;
		if (msg.type == 'N')
			results_emit_notice(task, &msg);
		else
			results_consume(&state, &msg);
	}
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(msgcxt);
	if (!task->saw_end)
		results_raise_lost(task);
}

/* Handle one message of a result being read. */
static void
results_consume(PgbgResultState *state, PgbgMessage *msg)
{
	PgbgTask   *task = state->task;

	CHECK_FOR_INTERRUPTS();
	if (state->skip_rows && msg->type != 'E')
		return;
	switch (msg->type)
	{
		case 'D':
			if (state->tags_only || state->finfo == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_PROTOCOL_VIOLATION),
						 errmsg("unexpected data row from pg_background worker with PID %d",
								task->pid)));
			pgbg_decode_datarow(msg->data, msg->len, &task->rowdesc,
								state->tupdesc, state->finfo,
								state->typioparams, state->values,
								state->nulls);
			tuplestore_putvalues(state->tupstore, state->tupdesc,
								 state->values, state->nulls);
			break;
		case PGBG_MSG_TUPLES:
			if (state->tags_only || state->tuples == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_PROTOCOL_VIOLATION),
						 errmsg("unexpected data row from pg_background worker with PID %d",
								task->pid)));
			pgbg_decode_tuples(msg->data, msg->len, state->tuples,
							   state->tupstore);
			break;
		case PGBG_MSG_TUPLE_PART:
			if (state->tags_only || state->tuples == NULL)
				ereport(ERROR,
						(errcode(ERRCODE_PROTOCOL_VIOLATION),
						 errmsg("unexpected data row from pg_background worker with PID %d",
								task->pid)));
			pgbg_decode_tuple_part(msg->data, msg->len, state->tuples,
								   state->tupstore);
			break;
		case 'C':
			pgbg_check_tuple_parts(state->tuples);
			if (state->tags_only)
			{
				const char *tag;

				if (!pgbg_parse_command_tag(msg->data, msg->len, &tag))
					ereport(ERROR,
							(errcode(ERRCODE_PROTOCOL_VIOLATION),
							 errmsg("malformed command tag from pg_background worker with PID %d",
									task->pid)));
				state->values[0] = pgbg_decode_tag(tag, state->tupdesc,
												   state->finfo,
												   state->typioparams[0]);
				state->nulls[0] = false;
				tuplestore_putvalues(state->tupstore, state->tupdesc,
									 state->values, state->nulls);
			}
			break;
		case 'E':
			if (!results_late_termination(task, msg))
				results_raise_worker_error(task, msg);
			break;
		case 'Z':
			pgbg_check_tuple_parts(state->tuples);
			break;
		case 'T':				/* parsed when it arrived */
		case 'A':
		case 'S':
			break;
		case 'N':
			results_emit_notice(task, msg);
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errmsg("unknown message type %d from pg_background worker with PID %d",
							(int) (unsigned char) msg->type, task->pid)));
	}
}

/*
 * The worker's error is its result: rethrow it here with its SQLSTATE,
 * message, detail, hint and context (which names the worker), and forget
 * the task.  Its cursor position points into the worker's SQL, not the
 * caller's query, so it is dropped.  A FATAL in the worker is an ERROR
 * here: it must not end the caller's session.
 */
static void
results_raise_worker_error(PgbgTask *task, PgbgMessage *msg)
{
	ErrorData	edata;

	if (!pgbg_parse_errornotice(msg->data, msg->len, &edata))
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("malformed error message from pg_background worker with PID %d",
						task->pid)));

	/* a cancel or timeout shows as the worker's FATAL; say what happened */
	if (edata.sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
		edata.sqlerrcode == ERRCODE_QUERY_CANCELED)
		results_raise_stopped(task);

	/* edata lives in the current context, not the task's */
	pgbg_note_partial_commits(task, &edata);
	pgbg_account(task);
	pgbg_release_task(task);

	if (edata.elevel != ERROR)
		edata.elevel = ERROR;
	edata.cursorpos = 0;
	ThrowErrorData(&edata);
}

/*
 * If we stopped the worker (cancel, or pg_background.worker_timeout), raise
 * that, with SQLSTATE 57014, and forget the task.
 */
static void
results_raise_stopped(PgbgTask *task)
{
	ErrorData	edata;

	if (!pgbg_stop_error(task, false, &edata))
		return;
	pgbg_account(task);
	pgbg_release_task(task);
	results_throw(&edata);
}

/* The worker went away without saying it finished or failed. */
static void
results_raise_lost(PgbgTask *task)
{
	ErrorData	edata;

	(void) pgbg_stop_error(task, true, &edata);
	pgbg_account(task);
	pgbg_release_task(task);
	results_throw(&edata);
}

/*
 * The error a result read raises when the worker's own error is not the
 * story: we stopped it (a cancel, pg_background.worker_timeout), or, when
 * lost, its output ended without a word.  Each says whether part of its
 * work had committed.  False when it was neither stopped nor lost.  The
 * strings are allocated in the current memory context.  error_info_v2
 * (api19.c) reports the same error without raising it.
 */
bool
pgbg_stop_error(PgbgTask *task, bool lost, ErrorData *edata)
{
	bool		timed_out = pg_atomic_read_u32(&task->fixed->timed_out) != 0;
	int			commits = results_partial_commits(task);
	char	   *committed = NULL;	/* "(2 commits)" when any */

	MemSet(edata, 0, sizeof(ErrorData));
	if (commits > 0)
		committed = psprintf("(%d %s)", commits,
							 commits == 1 ? "commit" : "commits");
	if (timed_out)
	{
		edata->sqlerrcode = ERRCODE_QUERY_CANCELED;
		edata->message = psprintf("pg_background worker with PID %d was stopped by pg_background.worker_timeout",
								  task->pid);
		edata->detail = committed ?
			psprintf("It ran longer than %d ms; part of its work had already committed %s before it stopped.",
					 task->fixed->timeout_ms, committed) :
			psprintf("It ran longer than %d ms; its transaction did not commit.",
					 task->fixed->timeout_ms);
	}
	else if (task->cancel_requested)
	{
		edata->sqlerrcode = ERRCODE_QUERY_CANCELED;
		edata->message = psprintf("pg_background worker with PID %d was canceled",
								  task->pid);
		edata->detail = committed ?
			psprintf("Part of its work had already committed %s before it stopped.",
					 committed) :
			pstrdup("Its transaction did not commit.");
	}
	else if (lost)
	{
		edata->sqlerrcode = ERRCODE_CONNECTION_FAILURE;
		edata->message = psprintf("lost connection to pg_background worker with PID %d",
								  task->pid);
		if (committed)
			edata->detail = psprintf("Part of its work had already committed %s before it ended.",
									 committed);
		edata->hint = pstrdup("More details may be available in the server log.");
	}
	else
		return false;
	return true;
}

/*
 * The worker's own error rolled back only the work after its last commit:
 * add that to its detail.
 */
void
pgbg_note_partial_commits(PgbgTask *task, ErrorData *edata)
{
	int			commits = results_partial_commits(task);
	char	   *note;

	if (commits == 0)
		return;
	note = psprintf("Part of its work had already committed (%d %s) before the error.",
					commits, commits == 1 ? "commit" : "commits");
	edata->detail = edata->detail ?
		psprintf("%s\n%s", edata->detail, note) : note;
}

/* Raise an error built by pgbg_stop_error. */
static void
results_throw(ErrorData *edata)
{
	ereport(ERROR,
			(errcode(edata->sqlerrcode),
			 errmsg_internal("%s", edata->message),
			 edata->detail ? errdetail_internal("%s", edata->detail) : 0,
			 edata->hint ? errhint("%s", edata->hint) : 0));
}
