/*-------------------------------------------------------------------------
 *
 * transport_send.c
 *		The worker's side of the transport: which columns go in binary, and
 *		the row receiver that sends each row into the shm_mq.
 *
 * transport.c decodes what is written here on the launcher side; the two
 * must agree on the wire format (the layout of anonymous records, see
 * encode_field, is read back by decode_anonymous_record there).  This
 * file runs only in the worker; transport.c's parsers are fuzzed apart
 * from it (fuzz/ compiles transport.c alone).
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
#include "fmgr.h"
#include "libpq/libpq.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "tcop/dest.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/portal.h"
#include "utils/typcache.h"

#include "pg_background.h"
#include "compat.h"


static bool binary_safe(Oid typid, int32 typmod, int depth);

/*
 * Can a value of this type go in binary?  The type needs send and receive
 * functions, and so does everything inside it: array elements, the columns
 * of a composite, a range's subtype.  Anonymous records always can: the
 * row receiver below sends them in a layout that carries each field's
 * type, with a text fallback for fields that have no binary I/O.
 */
bool
pgbg_binary_safe(Oid typid, int32 typmod)
{
	return binary_safe(typid, typmod, 0);
}

static bool
binary_safe(Oid typid, int32 typmod, int depth)
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
	if (typid == RECORDOID)
		return true;
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
		return binary_safe(elem, -1, depth + 1);
	if (typtype == TYPTYPE_RANGE)
		return binary_safe(get_range_subtype(typid), -1, depth + 1);
	if (typtype == TYPTYPE_COMPOSITE)
	{
		TupleDesc	rowdesc = lookup_rowtype_tupdesc(typid, typmod);
		int			i;

		for (i = 0; ok && i < rowdesc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(rowdesc, i);

			ok = att->attisdropped ||
				binary_safe(att->atttypid, att->atttypmod, depth + 1);
		}
		ReleaseTupleDesc(rowdesc);
	}
	return ok;
}

/*
 * The worker's output is in the database encoding, which the launcher
 * decodes without conversion, whatever the worker's SQL does to
 * client_encoding (SET, RESET, a function's SET clause: pg_dump's scripts
 * begin with SET client_encoding).  Called before each statement and each
 * row; the setting itself keeps its value for SHOW.
 */
void
pgbg_worker_pin_encoding(void)
{
	if (pg_get_client_encoding() != GetDatabaseEncoding())
		(void) SetClientEncoding(GetDatabaseEncoding());
}

static void encode_anonymous_record(StringInfo buf, Datum value);
static void encode_anonymous_record_array(StringInfo buf, Datum value);

/* Start a length-prefixed part; returns where its length goes. */
static int
encode_begin_counted(StringInfo buf)
{
	int			at = buf->len;

	pq_sendint32(buf, 0);
	return at;
}

static void
encode_end_counted(StringInfo buf, int at)
{
	uint32		n = pg_hton32((uint32) (buf->len - at - 4));

	memcpy(buf->data + at, &n, sizeof(n));
}

/*
 * One field of an anonymous record, as record_send() would write it (type
 * OID, length, the send function's bytes), except that a field whose type
 * has no binary I/O goes as InvalidOid, then its real type OID and its
 * text form: decode_anonymous_record() reads it with the input function.
 * Record_send writes a real type OID for every field, so InvalidOid cannot
 * be mistaken for one.
 */
static void
encode_field(StringInfo buf, Oid typid, int32 typmod, Datum value,
			 bool isnull)
{
	int			at;

	if (isnull)
	{
		pq_sendint32(buf, typid);
		pq_sendint32(buf, -1);
		return;
	}
	if (typid == RECORDOID)
	{
		pq_sendint32(buf, typid);
		at = encode_begin_counted(buf);
		encode_anonymous_record(buf, value);
	}
	else if (get_element_type(typid) == RECORDOID)
	{
		pq_sendint32(buf, typid);
		at = encode_begin_counted(buf);
		encode_anonymous_record_array(buf, value);
	}
	else if (pgbg_binary_safe(typid, typmod))
	{
		Oid			func;
		bool		isvarlena;
		bytea	   *bytes;

		getTypeBinaryOutputInfo(typid, &func, &isvarlena);
		bytes = OidSendFunctionCall(func, value);
		pq_sendint32(buf, typid);
		pq_sendint32(buf, VARSIZE(bytes) - VARHDRSZ);
		pq_sendbytes(buf, VARDATA(bytes), VARSIZE(bytes) - VARHDRSZ);
		pfree(bytes);
		return;
	}
	else
	{
		Oid			func;
		bool		isvarlena;
		char	   *str;
		int			nestlevel;

		getTypeOutputInfo(typid, &func, &isvarlena);
		nestlevel = pgbg_transmission_modes_set();
		str = OidOutputFunctionCall(func, value);
		pgbg_transmission_modes_reset(nestlevel);
		pq_sendint32(buf, InvalidOid);
		at = encode_begin_counted(buf);
		pq_sendint32(buf, typid);
		appendBinaryStringInfo(buf, str, strlen(str));
		pfree(str);
	}
	encode_end_counted(buf, at);
}

/* A record: its field count, then each field that is not dropped. */
static void
encode_anonymous_record(StringInfo buf, Datum value)
{
	HeapTupleHeader rec = DatumGetHeapTupleHeader(value);
	TupleDesc	tupdesc;
	HeapTupleData tuple;
	Datum	   *values;
	bool	   *nulls;
	int			nvalid = 0;
	int			i;

	check_stack_depth();		/* records can nest */
	tupdesc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(rec),
									 HeapTupleHeaderGetTypMod(rec));
	tuple.t_len = HeapTupleHeaderGetDatumLength(rec);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = rec;
	values = palloc(sizeof(Datum) * Max(tupdesc->natts, 1));
	nulls = palloc(sizeof(bool) * Max(tupdesc->natts, 1));
	heap_deform_tuple(&tuple, tupdesc, values, nulls);

	for (i = 0; i < tupdesc->natts; i++)
		if (!TupleDescAttr(tupdesc, i)->attisdropped)
			nvalid++;
	pq_sendint32(buf, nvalid);
	for (i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (!att->attisdropped)
			encode_field(buf, att->atttypid, att->atttypmod, values[i],
						 nulls[i]);
	}
	ReleaseTupleDesc(tupdesc);
	pfree(values);
	pfree(nulls);
}

/* An array of records, in array_send()'s layout. */
static void
encode_anonymous_record_array(StringInfo buf, Datum value)
{
	ArrayType  *arr = DatumGetArrayTypeP(value);
	int			ndim = ARR_NDIM(arr);
	Datum	   *elems;
	bool	   *nulls;
	int			nitems;
	int			i;

	pq_sendint32(buf, ndim);
	pq_sendint32(buf, ARR_HASNULL(arr) ? 1 : 0);
	pq_sendint32(buf, RECORDOID);
	for (i = 0; i < ndim; i++)
	{
		pq_sendint32(buf, ARR_DIMS(arr)[i]);
		pq_sendint32(buf, ARR_LBOUND(arr)[i]);
	}
	deconstruct_array(arr, ARR_ELEMTYPE(arr), -1, false, TYPALIGN_DOUBLE,
					  &elems, &nulls, &nitems);
	for (i = 0; i < nitems; i++)
	{
		int			at;

		if (nulls[i])
		{
			pq_sendint32(buf, -1);
			continue;
		}
		at = encode_begin_counted(buf);
		encode_anonymous_record(buf, elems[i]);
		encode_end_counted(buf, at);
	}
	pfree(elems);
	pfree(nulls);
}

/*
 * The row receiver: printtup, except that anonymous records (and arrays of
 * them) are encoded by us.  record_send() would fail on a field without
 * binary I/O (aclitem, in SELECT ROW(relname, relacl) FROM pg_class), and
 * the text form cannot be read back: record_in() needs a known row type.
 * The row description still names record; the encoded bytes reach printtup
 * as a bytea column, which it sends as they are.
 */
typedef struct PgbgRowReceiver
{
	DestReceiver pub;
	DestReceiver *inner;		/* printtup */
	bool		tuples;			/* rows go as MinimalTuples, batched */
	TupleDesc	typeinfo;		/* the portal's, when they do */
	StringInfoData batch;		/* tuples not sent yet */
	int			batch_rows;		/* how many */
	int			batch_limit;	/* send when there are this many */
	Datum	   *values;			/* one row, its values flattened */
	bool	   *nulls;
	bool	   *varlena;		/* per column: attlen -1 */
	TupleDesc	sendDesc;		/* NULL: no record column, pass rows on */
	TupleTableSlot *sendSlot;
	char	   *encode;			/* per column: 'a', 'A' or 0 */
	bool		has_text;		/* a column goes as text (portal's formats) */
	MemoryContext rowContext;
} PgbgRowReceiver;

/*
 * Rows go as MinimalTuples unless a column is an anonymous record or an
 * array of them: their row types are registered in the worker's backend
 * only (a typmod the caller cannot resolve).  Nothing else can hold one: a
 * named composite, a domain or a range cannot be declared over record.
 */
static bool
tuples_safe(TupleDesc typeinfo)
{
	int			i;

	for (i = 0; i < typeinfo->natts; i++)
	{
		Oid			typid = getBaseType(TupleDescAttr(typeinfo, i)->atttypid);

		if (typid == RECORDOID || get_element_type(typid) == RECORDOID)
			return false;
	}
	return true;
}

/*
 * Start a new batch.  Its tuples are formed in place, each at a MAXALIGNed
 * address (heap_fill_tuple aligns each value by its address), so the first
 * one starts MAXIMUM_ALIGNOF bytes into the buffer; the first byte is not
 * sent, and the type byte takes its place in the message.  The launcher
 * finds the tuples at the same alignment (the queue hands out each message
 * MAXALIGNed) and reads them where they are (pgbg_decode_tuples).
 */
static void
tuples_begin_batch(PgbgRowReceiver *rr)
{
	resetStringInfo(&rr->batch);
	appendStringInfoSpaces(&rr->batch, PGBG_TUPLE_BATCH_PAD + 1);
	rr->batch_rows = 0;
}

/*
 * Send the batch.  A row too large for a batch of its own goes in parts of
 * PGBG_TUPLE_BATCH_SIZE bytes instead (PGBG_MSG_TUPLE_PART, read back by
 * pgbg_decode_tuple_part): a message that fills most of the queue would
 * keep us waiting until the launcher has read and stored all of it, while
 * parts let us write the next one as soon as it has read the previous.
 */
static void
tuples_flush(PgbgRowReceiver *rr)
{
	if (rr->batch_rows == 0)
		return;
	if (rr->batch_rows == 1 &&
		rr->batch.len - MAXIMUM_ALIGNOF > PGBG_TUPLE_BATCH_SIZE)
	{
		MinimalTuple tuple = (MinimalTuple) (rr->batch.data + MAXIMUM_ALIGNOF);
		const char *p = (const char *) tuple;
		Size		left = tuple->t_len;

		while (left > 0)
		{
			Size		n = Min(left, PGBG_TUPLE_BATCH_SIZE);

			(void) pq_putmessage(PGBG_MSG_TUPLE_PART, p, n);
			p += n;
			left -= n;
		}
	}
	else
		(void) pq_putmessage(PGBG_MSG_TUPLES, rr->batch.data + 1,
							 rr->batch.len - 1);
	if (rr->batch_limit < PG_INT32_MAX / 2)
		rr->batch_limit *= 2;

	/* do not keep a buffer grown by one huge row for the whole statement */
	if (rr->batch.maxlen > 4 * PGBG_TUPLE_BATCH_SIZE)
	{
		pfree(rr->batch.data);
		initStringInfo(&rr->batch);
	}
	tuples_begin_batch(rr);
}

/*
 * Append one row to the batch as a MinimalTuple, formed in place the way
 * heap_form_minimal_tuple() forms one (same header, null bitmap and data
 * layout), without a tuple of its own to copy and free: the batch is
 * MAXALIGNed at every tuple, as a palloc'd tuple would be.
 */
static void
tuples_append(PgbgRowReceiver *rr, TupleDesc desc, Datum *values,
			  bool *nulls)
{
	int			natts = desc->natts;
	bool		hasnull = false;
	Size		hoff;
	Size		data_len;
	Size		len;
	MinimalTuple tuple;
	int			i;

	for (i = 0; i < natts; i++)
		if (nulls[i])
		{
			hasnull = true;
			break;
		}
	hoff = SizeofMinimalTupleHeader;
	if (hasnull)
		hoff += BITMAPLEN(natts);
	hoff = MAXALIGN(hoff);
	data_len = heap_compute_data_size(desc, values, nulls);
	len = hoff + data_len;
	if (len > MaxAllocSize - MAXIMUM_ALIGNOF)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("row is too big to send: %zu bytes", len)));

	/* a row that would make the batch too large starts the next one */
	if (rr->batch_rows > 0 &&
		(Size) rr->batch.len + MAXALIGN(len) > PGBG_TUPLE_BATCH_SIZE)
		tuples_flush(rr);

	enlargeStringInfo(&rr->batch, (int) MAXALIGN(len));
	tuple = (MinimalTuple) (rr->batch.data + rr->batch.len);
	memset(tuple, 0, MAXALIGN(len));
	tuple->t_len = len;
	HeapTupleHeaderSetNatts(tuple, natts);
	tuple->t_hoff = hoff + MINIMAL_TUPLE_OFFSET;
	heap_fill_tuple(desc, values, nulls, (char *) tuple + hoff, data_len,
					&tuple->t_infomask, hasnull ? tuple->t_bits : NULL);
	rr->batch.len += MAXALIGN(len);
	rr->batch.data[rr->batch.len] = '\0';
	rr->batch_rows++;
}

/*
 * One row as a MinimalTuple, appended to the batch.  The batch goes out when
 * it reaches PGBG_TUPLE_BATCH_SIZE bytes, at the end of the statement, and
 * when it holds as many rows as the previous batch twice over (the first
 * row goes alone): a worker that stops producing rows for a while (it waits
 * for a lock, say) has sent at least half of those it produced, the first
 * of them at once, while a large result still travels in large messages.
 * Every
 * value stored out of line (TOAST, an expanded object) or compressed is
 * flattened first, as toast_flatten_tuple_to_datum does: the caller may
 * read the row after this transaction ended and VACUUM removed the TOAST
 * rows it points to.  Values inside a composite or an array never are
 * (PostgreSQL flattens those when it builds them).
 */
static bool
tuples_receive(PgbgRowReceiver *rr, TupleTableSlot *slot)
{
	TupleDesc	desc = rr->typeinfo;
	MemoryContext oldcxt = NULL;
	int			i;

	slot_getallattrs(slot);
	for (i = 0; i < desc->natts; i++)
	{
		rr->values[i] = slot->tts_values[i];
		rr->nulls[i] = slot->tts_isnull[i];
		if (!rr->nulls[i] && rr->varlena[i])
		{
			struct varlena *v = (struct varlena *) DatumGetPointer(rr->values[i]);

			if (VARATT_IS_EXTERNAL(v) || VARATT_IS_COMPRESSED(v))
			{
				if (oldcxt == NULL)
					oldcxt = MemoryContextSwitchTo(rr->rowContext);
				rr->values[i] = PointerGetDatum(pg_detoast_datum(v));
			}
		}
	}
	if (oldcxt != NULL)
		MemoryContextSwitchTo(oldcxt);

	tuples_append(rr, desc, rr->values, rr->nulls);
	if (rr->batch.len >= PGBG_TUPLE_BATCH_SIZE ||
		rr->batch_rows >= rr->batch_limit)
		tuples_flush(rr);
	if (oldcxt != NULL)
		MemoryContextReset(rr->rowContext);
	return true;
}

static void
row_receiver_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	PgbgRowReceiver *rr = (PgbgRowReceiver *) self;
	int			i;

	pgbg_worker_pin_encoding();
	/* the row description goes first, whatever follows */
	rr->inner->rStartup(rr->inner, operation, typeinfo);

	if (tuples_safe(typeinfo))
	{
		rr->tuples = true;
		rr->typeinfo = typeinfo;
		initStringInfo(&rr->batch);
		tuples_begin_batch(rr);
		rr->batch_limit = 1;
		rr->values = palloc(sizeof(Datum) * Max(typeinfo->natts, 1));
		rr->nulls = palloc(sizeof(bool) * Max(typeinfo->natts, 1));
		rr->varlena = palloc(sizeof(bool) * Max(typeinfo->natts, 1));
		for (i = 0; i < typeinfo->natts; i++)
			rr->varlena[i] = TupleDescAttr(typeinfo, i)->attlen == -1;
		rr->rowContext = AllocSetContextCreate(CurrentMemoryContext,
											   "pg_background row encoding",
											   ALLOCSET_DEFAULT_SIZES);
		return;
	}

	rr->encode = palloc0(Max(typeinfo->natts, 1));
	for (i = 0; i < typeinfo->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(typeinfo, i);

		if (att->atttypid == RECORDOID)
			rr->encode[i] = 'a';
		else if (get_element_type(att->atttypid) == RECORDOID)
			rr->encode[i] = 'A';
		else
			continue;
		if (rr->sendDesc == NULL)
			rr->sendDesc = CreateTupleDescCopy(typeinfo);
		TupleDescInitEntry(rr->sendDesc, i + 1, NameStr(att->attname),
						   BYTEAOID, -1, 0);
	}
	if (rr->sendDesc == NULL)
		return;
	rr->sendSlot = MakeSingleTupleTableSlot(rr->sendDesc, &TTSOpsVirtual);
	rr->rowContext = AllocSetContextCreate(CurrentMemoryContext,
										   "pg_background row encoding",
										   ALLOCSET_DEFAULT_SIZES);
}

static bool
row_receiver_receive(TupleTableSlot *slot, DestReceiver *self)
{
	PgbgRowReceiver *rr = (PgbgRowReceiver *) self;
	TupleTableSlot *out = rr->sendSlot;
	MemoryContext oldcxt;
	bool		result;
	int			nestlevel = -1;
	int			i;

	pgbg_worker_pin_encoding();
	if (rr->tuples)
		return tuples_receive(rr, slot);
	if (rr->sendDesc == NULL)
	{
		if (!rr->has_text)
			return rr->inner->receiveSlot(slot, rr->inner);
		nestlevel = pgbg_transmission_modes_set();
		result = rr->inner->receiveSlot(slot, rr->inner);
		pgbg_transmission_modes_reset(nestlevel);
		return result;
	}

	slot_getallattrs(slot);
	ExecClearTuple(out);
	oldcxt = MemoryContextSwitchTo(rr->rowContext);
	for (i = 0; i < rr->sendDesc->natts; i++)
	{
		out->tts_values[i] = slot->tts_values[i];
		out->tts_isnull[i] = slot->tts_isnull[i];
		if (rr->encode[i] != 0 && !slot->tts_isnull[i])
		{
			StringInfoData buf;

			initStringInfo(&buf);
			appendStringInfoSpaces(&buf, VARHDRSZ);
			if (rr->encode[i] == 'a')
				encode_anonymous_record(&buf, slot->tts_values[i]);
			else
				encode_anonymous_record_array(&buf, slot->tts_values[i]);
			SET_VARSIZE(buf.data, buf.len);
			out->tts_values[i] = PointerGetDatum(buf.data);
		}
	}
	MemoryContextSwitchTo(oldcxt);
	ExecStoreVirtualTuple(out);
	if (rr->has_text)
		nestlevel = pgbg_transmission_modes_set();
	result = rr->inner->receiveSlot(out, rr->inner);
	if (rr->has_text)
		pgbg_transmission_modes_reset(nestlevel);
	ExecClearTuple(out);
	MemoryContextReset(rr->rowContext);
	return result;
}

static void
row_receiver_shutdown(DestReceiver *self)
{
	PgbgRowReceiver *rr = (PgbgRowReceiver *) self;

	if (rr->tuples)
	{
		tuples_flush(rr);
		pfree(rr->batch.data);
		pfree(rr->values);
		pfree(rr->nulls);
		pfree(rr->varlena);
		rr->tuples = false;
	}
	rr->inner->rShutdown(rr->inner);
	if (rr->sendSlot != NULL)
		ExecDropSingleTupleTableSlot(rr->sendSlot);
	if (rr->sendDesc != NULL)
		FreeTupleDesc(rr->sendDesc);
	if (rr->rowContext != NULL)
		MemoryContextDelete(rr->rowContext);
	if (rr->encode != NULL)
		pfree(rr->encode);
	rr->sendSlot = NULL;
	rr->sendDesc = NULL;
	rr->rowContext = NULL;
	rr->encode = NULL;
}

static void
row_receiver_destroy(DestReceiver *self)
{
	PgbgRowReceiver *rr = (PgbgRowReceiver *) self;

	rr->inner->rDestroy(rr->inner);
	pfree(rr);
}

/*
 * Wrap the worker's printtup receiver (DestRemote, set up for this portal,
 * whose result formats worker_set_formats chose).
 */
DestReceiver *
pgbg_create_row_receiver(DestReceiver *inner, Portal portal)
{
	PgbgRowReceiver *rr = palloc0(sizeof(PgbgRowReceiver));
	int			i;

	if (portal->formats != NULL)
		for (i = 0; i < portal->tupDesc->natts; i++)
			if (portal->formats[i] == 0)
				rr->has_text = true;

	rr->pub.receiveSlot = row_receiver_receive;
	rr->pub.rStartup = row_receiver_startup;
	rr->pub.rShutdown = row_receiver_shutdown;
	rr->pub.rDestroy = row_receiver_destroy;
	rr->pub.mydest = inner->mydest;
	rr->inner = inner;
	return &rr->pub;
}
