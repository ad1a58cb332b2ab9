/*-------------------------------------------------------------------------
 *
 * transport.c
 *		The messages a worker sends its launcher, and their decoding on the
 *		launcher side.
 *
 * The worker speaks the frontend/backend protocol into its shm_mq
 * (RowDescription 'T', DataRow 'D', CommandComplete 'C', ErrorResponse
 * 'E', NoticeResponse 'N', ReadyForQuery 'Z').  The parsers here treat
 * every message as untrusted bytes: each length and count is checked
 * against what is left of the message before it is used, and a malformed
 * message is reported as such instead of being read past its end.  The
 * parsers allocate with palloc but raise no errors themselves, so they can
 * be driven by the fuzzer in fuzz/.
 *
 * Copyright (c) 2026, pg_background contributors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/tupdesc.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "port/pg_bswap.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/typcache.h"

#include "pg_background.h"

/* A read cursor over one message. */
typedef struct PgbgReader
{
	const char *data;
	int			len;
	int			pos;
} PgbgReader;

static bool
reader_int16(PgbgReader *r, int16 *v)
{
	uint16		n;

	if (r->len - r->pos < (int) sizeof(n))
		return false;
	memcpy(&n, r->data + r->pos, sizeof(n));
	r->pos += sizeof(n);
	*v = (int16) pg_ntoh16(n);
	return true;
}

static bool
reader_int32(PgbgReader *r, int32 *v)
{
	uint32		n;

	if (r->len - r->pos < (int) sizeof(n))
		return false;
	memcpy(&n, r->data + r->pos, sizeof(n));
	r->pos += sizeof(n);
	*v = (int32) pg_ntoh32(n);
	return true;
}

/* A NUL-terminated string that must end inside the message. */
static bool
reader_string(PgbgReader *r, const char **s)
{
	const char *start = r->data + r->pos;
	const char *end;

	if (r->pos >= r->len)
		return false;
	end = memchr(start, '\0', r->len - r->pos);
	if (end == NULL)
		return false;
	*s = start;
	r->pos += (end - start) + 1;
	return true;
}

/* A decimal int32 field value; false if it is not one. */
static bool
parse_int32_field(const char *value, int32 *result)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (end == value || *end != '\0' || errno != 0 ||
		v < PG_INT32_MIN || v > PG_INT32_MAX)
		return false;
	*result = (int32) v;
	return true;
}

/*
 * RowDescription: int16 column count, then per column its name, table OID,
 * column number, type OID, type length, type modifier and format code.
 */
bool
pgbg_parse_rowdesc(const char *data, int len, PgbgRowDesc *desc,
				   char **errmsg)
{
	PgbgReader	r = {data, len, 0};
	int16		natts;
	int			i;

	desc->natts = 0;
	desc->cols = NULL;
	if (!reader_int16(&r, &natts))
	{
		*errmsg = "truncated row description";
		return false;
	}
	if (natts < 0 || natts > MaxTupleAttributeNumber)
	{
		*errmsg = psprintf("row description has %d columns, the limit is %d",
						   (int) natts, MaxTupleAttributeNumber);
		return false;
	}
	desc->cols = palloc0(sizeof(PgbgColumn) * Max(natts, 1));
	for (i = 0; i < natts; i++)
	{
		const char *name;
		int32		tableoid;
		int16		attnum;
		int32		typid;
		int16		typlen;
		int32		typmod;
		int16		format;

		if (!reader_string(&r, &name) ||
			!reader_int32(&r, &tableoid) ||
			!reader_int16(&r, &attnum) ||
			!reader_int32(&r, &typid) ||
			!reader_int16(&r, &typlen) ||
			!reader_int32(&r, &typmod) ||
			!reader_int16(&r, &format))
		{
			*errmsg = "truncated row description";
			return false;
		}
		if (format != 0 && format != 1)
		{
			*errmsg = psprintf("unknown format code %d in row description",
							   (int) format);
			return false;
		}
		desc->cols[i].typid = (Oid) typid;
		desc->cols[i].typmod = typmod;
		desc->cols[i].format = format;
	}
	if (r.pos != r.len)
	{
		*errmsg = "trailing bytes after row description";
		return false;
	}
	desc->natts = natts;
	return true;
}

/* CommandComplete: one string. */
bool
pgbg_parse_command_tag(const char *data, int len, const char **tag)
{
	PgbgReader	r = {data, len, 0};

	return reader_string(&r, tag) && r.pos == r.len;
}

/* Map a non-localized severity ('V' field) to an elevel. */
static int
pgbg_elevel_from_severity(const char *severity)
{
	static const struct
	{
		const char *name;
		int			elevel;
	}			levels[] =
	{
		{"DEBUG", DEBUG1},
		{"LOG", LOG},
		{"INFO", INFO},
		{"NOTICE", NOTICE},
		{"WARNING", WARNING},
		{"ERROR", ERROR},
		{"FATAL", FATAL},
		{"PANIC", PANIC},
	};
	int			i;

	for (i = 0; i < (int) lengthof(levels); i++)
		if (strcmp(severity, levels[i].name) == 0)
			return levels[i].elevel;
	return ERROR;
}

/* The string fields of an error or notice, and where they go. */
static const struct
{
	char		code;
	size_t		offset;
}			pgbg_string_fields[] =
{
	{PG_DIAG_MESSAGE_PRIMARY, offsetof(ErrorData, message)},
	{PG_DIAG_MESSAGE_DETAIL, offsetof(ErrorData, detail)},
	{PG_DIAG_MESSAGE_HINT, offsetof(ErrorData, hint)},
	{PG_DIAG_INTERNAL_QUERY, offsetof(ErrorData, internalquery)},
	{PG_DIAG_CONTEXT, offsetof(ErrorData, context)},
	{PG_DIAG_SCHEMA_NAME, offsetof(ErrorData, schema_name)},
	{PG_DIAG_TABLE_NAME, offsetof(ErrorData, table_name)},
	{PG_DIAG_COLUMN_NAME, offsetof(ErrorData, column_name)},
	{PG_DIAG_DATATYPE_NAME, offsetof(ErrorData, datatype_name)},
	{PG_DIAG_CONSTRAINT_NAME, offsetof(ErrorData, constraint_name)},
	{PG_DIAG_SOURCE_FILE, offsetof(ErrorData, filename)},
	{PG_DIAG_SOURCE_FUNCTION, offsetof(ErrorData, funcname)},
};

/* Store one field; false if its value is malformed. */
static bool
errornotice_field(ErrorData *edata, char code, const char *value)
{
	int			i;

	for (i = 0; i < (int) lengthof(pgbg_string_fields); i++)
	{
		if (pgbg_string_fields[i].code == code)
		{
			*(char **) ((char *) edata + pgbg_string_fields[i].offset) =
				pstrdup(value);
			return true;
		}
	}

	switch (code)
	{
		case PG_DIAG_SEVERITY_NONLOCALIZED:
			edata->elevel = pgbg_elevel_from_severity(value);
			return true;
		case PG_DIAG_SQLSTATE:
			if (strlen(value) != 5)
				return false;
			edata->sqlerrcode = MAKE_SQLSTATE(value[0], value[1], value[2],
											  value[3], value[4]);
			return true;
		case PG_DIAG_STATEMENT_POSITION:
			return parse_int32_field(value, &edata->cursorpos);
		case PG_DIAG_INTERNAL_POSITION:
			return parse_int32_field(value, &edata->internalpos);
		case PG_DIAG_SOURCE_LINE:
			return parse_int32_field(value, &edata->lineno);
		default:
			return true;		/* unknown fields are skipped, as the protocol asks */
	}
}

/*
 * ErrorResponse / NoticeResponse: a list of (one-byte field code, string)
 * pairs ending with a zero byte.  Strings are copied: the message may be
 * freed.
 */
bool
pgbg_parse_errornotice(const char *data, int len, ErrorData *edata)
{
	PgbgReader	r = {data, len, 0};

	MemSet(edata, 0, sizeof(ErrorData));
	edata->elevel = ERROR;
	edata->sqlerrcode = ERRCODE_INTERNAL_ERROR;
	edata->assoc_context = CurrentMemoryContext;

	for (;;)
	{
		char		code;
		const char *value;

		if (r.pos >= r.len)
			return false;		/* the terminator is missing */
		code = r.data[r.pos++];
		if (code == '\0')
			break;
		if (!reader_string(&r, &value) ||
			!errornotice_field(edata, code, value))
			return false;
	}
	return r.pos == r.len && edata->message != NULL;
}

/*
 * Everything below turns values into Datums with the server's type I/O
 * functions; the fuzzer (fuzz/) builds only the parsers above.
 */
#ifndef PGBG_TRANSPORT_PARSERS_ONLY

/*
 * The column definition list must describe what the worker returns: same
 * number of columns, same types (a domain in the list matches its base
 * type, which is what the worker reports), and no two known type modifiers
 * that differ.
 */
void
pgbg_check_rowtype(PgbgRowDesc *desc, TupleDesc expected)
{
	int			i;

	if (desc->natts != expected->natts)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("pg_background result rowtype does not match the column definition list"),
				 errdetail("The worker returns %d columns, the column definition list has %d.",
						   desc->natts, expected->natts)));

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(expected, i);
		PgbgColumn *col = &desc->cols[i];
		int32		basetypmod = att->atttypmod;
		Oid			basetype = getBaseTypeAndTypmod(att->atttypid, &basetypmod);

		if (col->typid != att->atttypid && col->typid != basetype)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("pg_background result rowtype does not match the column definition list"),
					 errdetail("Column %d of the worker's result has type %s, the column definition list says %s.",
							   i + 1, format_type_be(col->typid),
							   format_type_be(att->atttypid))));

		if (col->typmod >= 0 && basetypmod >= 0 && col->typmod != basetypmod)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("pg_background result rowtype does not match the column definition list"),
					 errdetail("Column %d of the worker's result has type %s, the column definition list says %s.",
							   i + 1,
							   format_type_with_typemod(col->typid, col->typmod),
							   format_type_with_typemod(att->atttypid,
														att->atttypmod))));
	}
}

/* When the SQL returned no rows, its command tags come back as text. */
void
pgbg_check_tag_rowtype(TupleDesc expected)
{
	if (expected->natts != 1 ||
		getBaseType(TupleDescAttr(expected, 0)->atttypid) != TEXTOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("pg_background result rowtype does not match the column definition list"),
				 errdetail("The worker's SQL returned no rows; its command tags are read as a single text column."),
				 errhint("Use a column definition list such as AS (result text).")));
}

/* How a binary column is decoded; chosen once per column, not per value. */
#define DECODE_RECEIVE		'r'		/* the type's receive function */
#define DECODE_RECORD		'a'		/* an anonymous record */
#define DECODE_RECORD_ARRAY	'A'		/* an array of anonymous records */

/* Which of the decoders above a binary value of type typid needs. */
static char
choose_decoder(Oid typid)
{
	if (typid == RECORDOID)
		return DECODE_RECORD;
	if (get_element_type(typid) == RECORDOID)
		return DECODE_RECORD_ARRAY;
	return DECODE_RECEIVE;
}

/*
 * Look up the input (text) or receive (binary) function of each column,
 * and how its binary values are decoded.
 */
void
pgbg_prepare_decoders(PgbgRowDesc *desc, TupleDesc tupdesc, FmgrInfo *finfo,
					  Oid *typioparams)
{
	int			i;

	for (i = 0; i < tupdesc->natts; i++)
	{
		Oid			typid = TupleDescAttr(tupdesc, i)->atttypid;
		Oid			func;

		desc->cols[i].decoder = choose_decoder(typid);

		if (desc->cols[i].format == 1)
			getTypeBinaryInputInfo(typid, &func, &typioparams[i]);
		else
			getTypeInputInfo(typid, &func, &typioparams[i]);
		fmgr_info(func, &finfo[i]);
	}
}

static Datum decode_anonymous_record(StringInfo buf);
static Datum decode_anonymous_record_array(StringInfo buf);

/*
 * Decode one binary value.  Receive functions expect a NUL after the data,
 * so it is copied into buf (reused from value to value by the caller when
 * it can be).
 */
static Datum
decode_binary(FmgrInfo *finfo, char decoder, Oid typioparam, int32 typmod,
			  const char *data, int len, StringInfo buf)
{
	Datum		value;

	resetStringInfo(buf);
	appendBinaryStringInfo(buf, data, len);

	if (decoder == DECODE_RECORD)
		value = decode_anonymous_record(buf);
	else if (decoder == DECODE_RECORD_ARRAY)
		value = decode_anonymous_record_array(buf);
	else
		value = ReceiveFunctionCall(finfo, buf, typioparam, typmod);

	if (buf->cursor != buf->len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("incorrect binary data format in pg_background result")));
	return value;
}

/*
 * record_recv() cannot read an anonymous record: it needs a row type the
 * launcher knows.  The binary record format names each column's type, so
 * build that row type here, register it for this session, and decode the
 * columns into it.
 */
static Datum
decode_anonymous_record(StringInfo buf)
{
	int			ncols = pq_getmsgint(buf, 4);
	TupleDesc	tupdesc;
	Datum	   *values;
	bool	   *nulls;
	HeapTuple	tuple;
	Datum		result;
	int			i;

	if (ncols < 0 || ncols > MaxTupleAttributeNumber)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid number of columns in anonymous record: %d",
						ncols)));
	tupdesc = CreateTemplateTupleDesc(ncols);
	values = palloc0(sizeof(Datum) * Max(ncols, 1));
	nulls = palloc0(sizeof(bool) * Max(ncols, 1));

	for (i = 0; i < ncols; i++)
	{
		Oid			coltype = pq_getmsgint(buf, 4);
		int			len = pq_getmsgint(buf, 4);

		TupleDescInitEntry(tupdesc, i + 1, NULL, coltype, -1, 0);
		if (len == -1)
			nulls[i] = true;
		else if (len < 0 || len > buf->len - buf->cursor)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid field length in anonymous record")));
		else
		{
			Oid			recv;
			Oid			ioparam;
			FmgrInfo	flinfo;
			StringInfoData field;

			getTypeBinaryInputInfo(coltype, &recv, &ioparam);
			fmgr_info(recv, &flinfo);
			initStringInfo(&field);
			values[i] = decode_binary(&flinfo, choose_decoder(coltype), ioparam, -1,
									  buf->data + buf->cursor, len, &field);
			pfree(field.data);
			buf->cursor += len;
		}
	}
	tupdesc = BlessTupleDesc(tupdesc);
	tuple = heap_form_tuple(tupdesc, values, nulls);
	result = heap_copy_tuple_as_datum(tuple, tupdesc);
	heap_freetuple(tuple);
	return result;
}

/*
 * An array of anonymous records, in array_send()'s format: dimensions,
 * lower bounds, then each element as a length and an anonymous record.
 */
static Datum
decode_anonymous_record_array(StringInfo buf)
{
	int			ndim = pq_getmsgint(buf, 4);
	int			dims[MAXDIM];
	int			lbs[MAXDIM];
	int			nitems = 1;
	Datum	   *elems;
	bool	   *nulls;
	int			i;

	(void) pq_getmsgint(buf, 4);	/* has-nulls flag: we see each NULL */
	(void) pq_getmsgint(buf, 4);	/* element type: RECORD */
	if (ndim < 0 || ndim > MAXDIM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid number of dimensions in array of records: %d",
						ndim)));
	for (i = 0; i < ndim; i++)
	{
		dims[i] = pq_getmsgint(buf, 4);
		lbs[i] = pq_getmsgint(buf, 4);
		if (dims[i] < 0 ||
			(dims[i] > 0 && (Size) nitems > MaxAllocSize / sizeof(Datum) / (Size) dims[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid array dimension in array of records")));
		nitems *= dims[i];
	}
	if (ndim == 0)
		return PointerGetDatum(construct_empty_array(RECORDOID));

	elems = palloc(sizeof(Datum) * Max(nitems, 1));
	nulls = palloc(sizeof(bool) * Max(nitems, 1));
	for (i = 0; i < nitems; i++)
	{
		int			len = pq_getmsgint(buf, 4);

		nulls[i] = (len == -1);
		elems[i] = (Datum) 0;
		if (nulls[i])
			continue;
		if (len < 0 || len > buf->len - buf->cursor)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid element length in array of records")));
		{
			StringInfoData elem;

			initStringInfo(&elem);
			appendBinaryStringInfo(&elem, buf->data + buf->cursor, len);
			elems[i] = decode_anonymous_record(&elem);
			if (elem.cursor != elem.len)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						 errmsg("incorrect binary data format in array of records")));
			pfree(elem.data);
		}
		buf->cursor += len;
	}
	return PointerGetDatum(construct_md_array(elems, nulls, ndim, dims, lbs,
											  RECORDOID, -1, false,
											  TYPALIGN_DOUBLE));
}

/*
 * DataRow: int16 column count, then per column an int32 length (-1 for
 * NULL) and that many bytes, in the format the row description gave.
 */
void
pgbg_decode_datarow(const char *data, int len, PgbgRowDesc *desc,
					TupleDesc tupdesc, FmgrInfo *finfo, Oid *typioparams,
					Datum *values, bool *nulls)
{
	static StringInfo scratch = NULL;
	PgbgReader	r = {data, len, 0};
	int16		natts;
	int			i;

	/* one buffer for every value of every row, instead of one per value */
	if (scratch == NULL)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(TopMemoryContext);

		scratch = makeStringInfo();
		MemoryContextSwitchTo(oldcxt);
	}

	if (!reader_int16(&r, &natts) || natts != tupdesc->natts)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("malformed data row from pg_background worker"),
				 errdetail("The row has a wrong or missing column count.")));

	for (i = 0; i < natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		int32		vlen;

		if (!reader_int32(&r, &vlen) || vlen < -1 || vlen > r.len - r.pos)
			ereport(ERROR,
					(errcode(ERRCODE_PROTOCOL_VIOLATION),
					 errmsg("malformed data row from pg_background worker"),
					 errdetail("Column %d has an invalid length.", i + 1)));

		nulls[i] = (vlen == -1);
		if (nulls[i])
		{
			/* let the input function see the NULL (domains check it) */
			if (desc->cols[i].format == 0)
				values[i] = InputFunctionCall(&finfo[i], NULL, typioparams[i],
											  att->atttypmod);
			else
				values[i] = ReceiveFunctionCall(&finfo[i], NULL,
												typioparams[i],
												att->atttypmod);
			continue;
		}

		if (desc->cols[i].format == 1)
			values[i] = decode_binary(&finfo[i], desc->cols[i].decoder,
									  typioparams[i], att->atttypmod,
									  r.data + r.pos, vlen, scratch);
		else
		{
			/* input functions want a NUL-terminated string */
			resetStringInfo(scratch);
			appendBinaryStringInfo(scratch, r.data + r.pos, vlen);
			pg_verifymbstr(scratch->data, vlen, false);
			values[i] = InputFunctionCall(&finfo[i], scratch->data,
										  typioparams[i], att->atttypmod);
		}
		r.pos += vlen;
	}
	if (r.pos != r.len)
		ereport(ERROR,
				(errcode(ERRCODE_PROTOCOL_VIOLATION),
				 errmsg("malformed data row from pg_background worker"),
				 errdetail("The row has trailing bytes.")));

	/* do not keep a buffer grown by one huge value for the whole session */
	if (scratch->maxlen > 1024 * 1024)
	{
		pfree(scratch->data);
		pfree(scratch);
		scratch = NULL;
	}
}

#endif							/* PGBG_TRANSPORT_PARSERS_ONLY */
