/*-------------------------------------------------------------------------
 *
 * pg_background.h
 *		Shared declarations for pg_background: the layout of the dynamic
 *		shared memory segment that a launching session and its background
 *		worker share, and the prototypes each source file exports.
 *
 * Copyright (c) 2026, pg_background contributors
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_BACKGROUND_H
#define PG_BACKGROUND_H

#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "port/atomics.h"
#include "storage/dsm.h"
#include "storage/shm_mq.h"
#include "storage/spin.h"
#include "tcop/dest.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

/* Identifies our segments; checked by shm_toc_attach in the worker. */
#define PGBG_MAGIC					0x50474247	/* "PGBG" */

/* shm_toc keys */
#define PGBG_KEY_FIXED				0
#define PGBG_KEY_SQL				1
#define PGBG_KEY_GUC				2
#define PGBG_KEY_QUEUE				3
#define PGBG_NKEYS					4

/* Limits that are part of the user-visible contract. */
#define PGBG_DEFAULT_QUEUE_SIZE		65536
#define PGBG_MAX_QUEUE_SIZE			((int64) MaxAllocSize)
#define PGBG_MAX_GRACE_MS			3600000
#define PGBG_SQL_PREVIEW_LEN		120
#define PGBG_LAST_ERROR_LEN			512
#define PGBG_PROGRESS_MSG_LEN		256
#define PGBG_LABEL_MAX				64	/* bytes; 1.9 */

#define PGBG_BGW_TYPE				"pg_background"

/*
 * The fixed part of the segment.  Everything the worker needs to become
 * the caller lives here; the SQL text and the serialized GUC state have
 * their own toc entries.
 */
typedef struct PgbgFixed
{
	/* identity of the caller, restored in the worker */
	Oid			database_id;
	Oid			authenticated_user_id;
	Oid			outer_user_id;	/* the role set with SET ROLE, if any */
	Oid			current_user_id;
	int			sec_context;

	bool		results_disabled;	/* pg_background_submit_v2 */

	/*
	 * The launcher pins the segment so that it survives even if the
	 * launcher exits before the worker has attached (otherwise the worker
	 * fails with "unable to map dynamic shared memory segment").  Whoever
	 * gets here first under the mutex -- the attaching worker, or the
	 * launcher cleaning up a worker that never ran -- unpins it.
	 */
	slock_t		mutex;
	bool		segment_pinned;
	pid_t		worker_pid;		/* set by the worker once attached */

	/*
	 * The start handshake (see pgbg_launch): the worker runs nothing until
	 * the launcher has recorded the task in its session and says go; if the
	 * launch fails instead, the launcher says so and the worker exits.
	 * worker_proc is set by the worker when it starts to wait, so that the
	 * launcher can set its latch.
	 */
	int			launch_state;	/* a PgbgLaunchState */
	struct PGPROC *worker_proc;
	pid_t		launcher_pid;	/* for the worker's log line */
	bool		committed;		/* the worker's SQL has committed */
	int32		commits;		/* transactions of the job that committed
								 * changes (a procedure's COMMIT, the
								 * commits around VACUUM, the last one) */
	TimestampTz started_at;		/* worker began running the SQL */
	TimestampTz finished_at;	/* worker is done, either way */
	bool		has_progress;	/* pg_background_progress() was called */
	bool		has_progress_msg;	/* ... with a non-NULL message */
	int32		progress_pct;
	char		progress_msg[PGBG_PROGRESS_MSG_LEN];

	/* pg_background.worker_timeout of the caller at launch; 0 = none */
	int			timeout_ms;

	/* set by cancel; the worker checks it between statements */
	pg_atomic_uint32 cancel_requested;
	/* set by the worker when worker_timeout stopped it */
	pg_atomic_uint32 timed_out;

	/* 1.9: the launch's label, "" if none; for the application_name */
	char		label[PGBG_LABEL_MAX + 1];

	/*
	 * The warm worker pool (pool.c).  A poolable worker that finished its
	 * task without error resets its session, sets left_seq to the task_seq
	 * of the task it ran (under the mutex: a task written over the last one
	 * in place gets the next task_seq) and waits for the launcher's decision in pool_state: take the
	 * next task from the segment next_handle names (this one again, when
	 * the launcher rewrote it in place), or exit.  It gives up by itself
	 * after idle_timeout_ms.  The sizes of the SQL and GUC areas and of the
	 * queue tell the launcher whether a task fits in this segment.
	 */
	bool		poolable;
	int			idle_timeout_ms;
	uint32		task_seq;
	uint32		left_seq;
	struct PGPROC *launcher_proc;	/* whom to wake, if launcher_waits */
	bool		launcher_waits; /* for left_seq (pgbg_pool_reuse) */
	pg_atomic_uint32 pool_state;	/* a PgbgPoolState */
	dsm_handle	next_handle;	/* valid with PGBG_POOL_NEXT */
	Size		sql_space;
	Size		guc_space;
	int32		queue_size;
} PgbgFixed;

/*
 * PgbgFixed.pool_state.  The launcher moves NONE -> IDLE (into its pool),
 * IDLE -> NEXT (a task handed over) and NONE or IDLE -> EXIT; the worker
 * moves NONE or IDLE -> GONE when it gives up waiting.  Every move is a
 * compare-and-exchange, so the two sides never both win.
 */
typedef enum PgbgPoolState
{
	PGBG_POOL_NONE = 0,
	PGBG_POOL_IDLE,
	PGBG_POOL_NEXT,
	PGBG_POOL_EXIT,
	PGBG_POOL_GONE
} PgbgPoolState;

/* PgbgFixed.launch_state */
typedef enum PgbgLaunchState
{
	PGBG_LAUNCH_PENDING = 0,	/* the launcher has not returned yet */
	PGBG_LAUNCH_GO,				/* the task is tracked: run the SQL */
	PGBG_LAUNCH_ABANDONED		/* the launch failed: exit, run nothing */
} PgbgLaunchState;

/*
 * Besides the protocol's messages, the worker sends rows as MinimalTuples,
 * several to a message of at most PGBG_TUPLE_BATCH_SIZE bytes, small enough
 * for a few to fit in the default queue at once; a larger row goes alone,
 * in parts of that size (transport_send.c; read by pgbg_decode_tuples and
 * pgbg_decode_tuple_part).  The type bytes are none the backend protocol
 * uses.
 */
#define PGBG_MSG_TUPLES				'M'
#define PGBG_MSG_TUPLE_PART			'm'	/* part of a row too large for one */
#define PGBG_TUPLE_BATCH_SIZE		16384
/* padding after the type byte: the tuples that follow are MAXALIGNed */
#define PGBG_TUPLE_BATCH_PAD		(MAXIMUM_ALIGNOF - 1)

/* A message from the worker, as the launcher sees it. */
typedef struct PgbgMessage
{
	char		type;
	int			len;
	const char *data;
} PgbgMessage;

/* Column metadata from a RowDescription message. */
typedef struct PgbgColumn
{
	Oid			typid;
	int32		typmod;
	int16		format;			/* 0 = text, 1 = binary */
	char		decoder;		/* set by pgbg_prepare_decoders */
} PgbgColumn;

typedef struct PgbgRowDesc
{
	int			natts;
	PgbgColumn *cols;
} PgbgRowDesc;

/* Where a tracked worker is, as shown by pg_background_list_v2(). */
typedef enum PgbgState
{
	PGBG_STATE_STARTING,
	PGBG_STATE_RUNNING,
	PGBG_STATE_STOPPED,
	PGBG_STATE_POSTMASTER_DIED
} PgbgState;

/*
 * One task launched by this session.  Kept separate from "one process" so
 * that a future worker pool can run several tasks in one process.
 */
typedef struct PgbgTask
{
	int			pid;
	uint64		cookie;
	Oid			user_id;		/* current user at launch */
	TimestampTz launched_at;
	int			queue_size;
	bool		results_disabled;
	char	   *sql_preview;
	char	   *last_error;

	dsm_segment *seg;			/* NULL once released */
	shm_mq_handle *mqh;
	PgbgFixed  *fixed;
	uint32		seq;			/* fixed->task_seq of this task */

	/*
	 * Allocated by RegisterDynamicBackgroundWorker in launcher.c's handle
	 * context, not the task's: it outlives the task until the worker
	 * process has exited (launcher_retire_handle).
	 */
	struct BackgroundWorkerHandle *handle;

	MemoryContext cxt;			/* everything of this task lives here */

	/*
	 * Reset before and after each message read from the queue or the
	 * buffer, so the caller's memory stays flat however many rows or
	 * notices go by (see results.c).  Created on first use.
	 */
	MemoryContext msgcxt;

	/*
	 * Set while a read or a wait uses the task: user code it runs (a type's
	 * input function, a domain check, emit_log_hook) may call back into us
	 * for the same task, and must not free or consume it (see launcher.c,
	 * pgbg_with_task_pinned).  A release asked for meanwhile waits for the
	 * unpin.
	 */
	bool		busy;
	bool		release_pending;

	/* messages drained from the queue but not consumed yet */
	Tuplestorestate *buffer;
	struct TupleTableSlot *buffer_slot;
	int64		buffered;		/* messages in buffer not yet read back */
	bool		buffer_incomplete;	/* an ERROR interrupted storing one */

	PgbgRowDesc rowdesc;		/* valid when has_rowdesc */
	bool		has_rowdesc;	/* a RowDescription arrived */
	bool		has_error;		/* an ErrorResponse arrived */
	bool		stream_ended;	/* 'Z' seen, or the worker detached */
	bool		saw_end;		/* 'Z' seen: the worker finished its SQL */
	bool		consumed;		/* a result read has begun */
	bool		cancel_requested;
	bool		accounted;		/* counted in this session's statistics */

	/* 1.9 (api19.c) */
	char	   *label;			/* NULL if launched without one */
	char	   *last_tag;		/* the latest command tag received */
	char	   *error_raw;		/* the worker's ErrorResponse, as received */
	int			error_raw_len;
} PgbgTask;

/* This session's counters, for pg_background_stats_v2(). */
typedef struct PgbgStats
{
	int64		launched;
	int64		completed;
	int64		failed;
	int64		canceled;
	int32		active;
	double		avg_execution_ms;	/* NaN-free: 0 when nothing finished */
	bool		have_avg;
} PgbgStats;

/* pg_background.c */
extern PGDLLEXPORT void pg_background_worker_main(Datum main_arg);
extern int	pgbg_max_workers;
extern int	pgbg_default_queue_size;
extern int	pgbg_worker_timeout;
extern int	pgbg_pool_size;
extern int	pgbg_pool_idle_timeout;

/* launcher.c */
extern PgbgTask *pgbg_launch(text *sql, int32 queue_size, bool results_disabled,
							 const char *label);
extern PgbgTask *pgbg_find_task(int pid, bool check_cookie, uint64 cookie);
extern void pgbg_detach(PgbgTask *task);
extern void pgbg_cancel(PgbgTask *task, int grace_ms);
extern bool pgbg_wait(PgbgTask *task, int timeout_ms);
extern void pgbg_list(FunctionCallInfo fcinfo);
extern void pgbg_release_task(PgbgTask *task);
extern void pgbg_check_not_busy(PgbgTask *task);
extern bool pgbg_refresh_task(PgbgTask *task);
extern bool pgbg_task_registered(PgbgTask *task);
typedef void (*PgbgPinnedFunc) (PgbgTask *task, void *arg);
extern void pgbg_with_task_pinned(PgbgTask *task, PgbgPinnedFunc fn,
								  void *arg);
extern void pgbg_account(PgbgTask *task);
extern void pgbg_get_stats(PgbgStats *stats);
extern bool pgbg_get_progress(PgbgTask *task, int32 *pct, char **msg);
extern bool pgbg_task_finished(PgbgTask *task);
extern bool pgbg_process_gone(PgbgTask *task);
extern List *pgbg_session_tasks(void);
extern const char *pgbg_task_state_name(PgbgTask *task);
extern bool pgbg_worker_done(PgbgTask *task);
extern void pgbg_retire_handle(struct BackgroundWorkerHandle *handle);
extern ReturnSetInfo *pgbg_materialize(FunctionCallInfo fcinfo,
									   TupleDesc *tupdesc,
									   Tuplestorestate **tupstore);
extern ReturnSetInfo *pgbg_materialize_declared(FunctionCallInfo fcinfo,
												TupleDesc *tupdesc,
												Tuplestorestate **tupstore);
extern PgbgTask *pgbg_search_task(int pid, bool check_cookie, uint64 cookie);
extern bool pgbg_task_usable(PgbgTask *task);

/* pool.c */
extern void pgbg_pool_prepare(dsm_segment *seg, PgbgFixed *fixed);
extern bool pgbg_pool_offer(PgbgTask *task);
extern bool pgbg_pool_reuse(Size sql_len, Size guc_len, int32 queue_size,
							dsm_segment **seg, PgbgFixed **fixed,
							shm_mq_handle **mqh,
							struct BackgroundWorkerHandle **handle);
extern struct BackgroundWorkerHandle *pgbg_pool_hand_over(dsm_segment *seg);
extern int	pgbg_pool_release_all(void);
extern void pgbg_pool_trim(void);
extern void pgbg_forget_session(void);
extern int	pgbg_pool_release_others(void);
extern void pgbg_pool_tell_exit(PgbgFixed *fixed);

/* api19.c */
extern char *pgbg_check_label(text *label);
extern void pgbg_note_tag(PgbgTask *task, PgbgMessage *msg);
extern void pgbg_note_error_raw(PgbgTask *task, PgbgMessage *msg);
extern void pgbg_format_appname(char *buf, size_t bufsize, const char *label,
								int pid);
extern bool pgbg_task_error(PgbgTask *task, ErrorData *edata);
extern int64 pgbg_tag_rows(const char *tag);
extern List *pgbg_my_tasks(void);
extern TupleDesc pgbg_result_tupdesc(FunctionCallInfo fcinfo);

/* results.c */
extern bool pgbg_pump(PgbgTask *task, bool nowait);
extern void pgbg_result(PgbgTask *task, FunctionCallInfo fcinfo);
extern bool pgbg_stop_error(PgbgTask *task, bool lost, ErrorData *edata);
extern void pgbg_note_partial_commits(PgbgTask *task, ErrorData *edata);

/* worker.c */
extern void pgbg_worker_run(dsm_handle handle);
extern void pgbg_worker_report_progress(int32 pct, const char *msg);

/* transport.c */
extern bool pgbg_parse_rowdesc(const char *data, int len, PgbgRowDesc *desc,
							   char **errmsg);
extern bool pgbg_parse_errornotice(const char *data, int len, ErrorData *edata);
extern bool pgbg_parse_command_tag(const char *data, int len, const char **tag);
extern void pgbg_check_rowtype(PgbgRowDesc *desc, TupleDesc expected);
extern void pgbg_check_tag_rowtype(TupleDesc expected);
extern void pgbg_prepare_tag_decoder(TupleDesc tupdesc, FmgrInfo *finfo,
									 Oid *typioparam);
extern Datum pgbg_decode_tag(const char *tag, TupleDesc tupdesc,
							 FmgrInfo *finfo, Oid typioparam);
extern int	pgbg_transmission_modes_set(void);
extern void pgbg_transmission_modes_reset(int nestlevel);
extern void pgbg_decode_datarow(const char *data, int len, PgbgRowDesc *desc,
								TupleDesc tupdesc, FmgrInfo *finfo,
								Oid *typioparams, Datum *values, bool *nulls);
extern void pgbg_prepare_decoders(PgbgRowDesc *desc, TupleDesc tupdesc,
								  FmgrInfo *finfo, Oid *typioparams);
struct PgbgTupleDecoder;
extern struct PgbgTupleDecoder *pgbg_prepare_tuple_decoder(PgbgRowDesc *desc,
															TupleDesc tupdesc);
extern void pgbg_decode_tuples(const char *data, int len,
							   struct PgbgTupleDecoder *dec,
							   Tuplestorestate *tupstore);
extern void pgbg_decode_tuple_part(const char *data, int len,
								   struct PgbgTupleDecoder *dec,
								   Tuplestorestate *tupstore);
extern void pgbg_check_tuple_parts(struct PgbgTupleDecoder *dec);

/* transport_send.c */
struct PortalData;
extern bool pgbg_binary_safe(Oid typid, int32 typmod);
extern void pgbg_worker_pin_encoding(void);
extern DestReceiver *pgbg_create_row_receiver(DestReceiver *inner,
											   struct PortalData *portal);

#endif							/* PG_BACKGROUND_H */
