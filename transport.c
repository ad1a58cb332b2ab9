/*-------------------------------------------------------------------------
 *
 * transport.c
 *		The messages a worker sends its launcher, and their decoding on the
 *		launcher side.  How the worker sends its rows: transport_send.c.
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
#include "executor/tuptable.h"
#include "funcapi.h"
#include "libpq/libpq.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "port/pg_bswap.h"
#include "tcop/tcopprot.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/pg_locale.h"
#include "utils/typcache.h"
#include "utils/xml.h"

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

		/*
		 * A type modifier in the list must be the worker's, as PostgreSQL
		 * requires of a record-returning function's column definition list
		 * (tupledesc_match): a column list saying varchar(3) for a worker
		 * column of plain varchar would otherwise fail only at the first
		 * long value, after the handle has been used up.  No modifier in
		 * the list accepts any; a domain's own modifier is one of its
		 * constraints, checked value by value like its CHECKs.
		 */
		if ((att->atttypmod >= 0 && col->typmod != att->atttypmod) ||
			(col->typmod >= 0 && basetypmod >= 0 && col->typmod != basetypmod))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("pg_background result rowtype does not match the column definition list"),
					 errdetail("Column %d of the worker's result has type %s, the column definition list says %s.",
							   i + 1,
							   format_type_with_typemod(col->typid, col->typmod),
							   format_type_with_typemod(att->atttypid,
														att->atttypmod)),
					 errhint("Declare the column without a type modifier, or cast the value to the declared type in the worker's SQL.")));
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

/*
 * A command tag becomes a value of the list's column type through that
 * type's input function, so a domain over text applies its constraints.
 */
void
pgbg_prepare_tag_decoder(TupleDesc tupdesc, FmgrInfo *finfo, Oid *typioparam)
{
	Oid			func;

	getTypeInputInfo(TupleDescAttr(tupdesc, 0)->atttypid, &func, typioparam);
	fmgr_info(func, finfo);
}

Datum
pgbg_decode_tag(const char *tag, TupleDesc tupdesc, FmgrInfo *finfo,
				Oid typioparam)
{
	return InputFunctionCall(finfo, unconstify(char *, tag), typioparam,
							 TupleDescAttr(tupdesc, 0)->atttypmod);
}

/*
 * A column sent as text (its type, or something inside it, has no binary
 * I/O: aclitem, or a composite holding one) is written by the worker's
 * output functions and read by ours, so both sides use the same settings
 * for the text forms that depend on them, as postgres_fdw does: ISO dates
 * (a worker that SET DateStyle = 'SQL, DMY' would otherwise turn January 2
 * into February 1), postgres intervals, exact floats, C money, XML content.
 * The settings are switched for the time of one row, around the output or
 * input functions only: the SQL of the worker and the caller's own
 * expressions keep theirs.  An error unwinds them with its (sub)transaction.
 */
int
pgbg_transmission_modes_set(void)
{
	int			nestlevel = NewGUCNestLevel();

	/* only what differs: DateStyle and IntervalStyle are reported to clients */
	if (DateStyle != USE_ISO_DATES)
		(void) set_config_option("datestyle", "ISO", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
								 false);
	if (IntervalStyle != INTSTYLE_POSTGRES)
		(void) set_config_option("intervalstyle", "postgres", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
								 false);
	if (extra_float_digits < 3)
		(void) set_config_option("extra_float_digits", "3", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
								 false);
	if (strcmp(locale_monetary, "C") != 0)
		(void) set_config_option("lc_monetary", "C", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
								 false);
	if (xmloption != XMLOPTION_CONTENT)
		(void) set_config_option("xmloption", "content", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
								 false);
	return nestlevel;
}

void
pgbg_transmission_modes_reset(int nestlevel)
{
	AtEOXact_GUC(true, nestlevel);
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
 * A field of an anonymous record whose type has no binary I/O (aclitem,
 * say) comes as its text form, read back with the type's input function
 * under the settings it was written with (pgbg_transmission_modes_set).
 */
static Datum
decode_text_field(Oid typid, const char *data, int len)
{
	Oid			func;
	Oid			ioparam;
	char	   *str;
	Datum		value;
	int			nestlevel;

	getTypeInputInfo(typid, &func, &ioparam);
	str = pnstrdup(data, len);
	if ((int) strlen(str) != len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid text field in anonymous record")));
	pg_verifymbstr(str, len, false);
	nestlevel = pgbg_transmission_modes_set();
	value = OidInputFunctionCall(func, str, ioparam, -1);
	pgbg_transmission_modes_reset(nestlevel);
	pfree(str);
	return value;
}

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
 * columns into it.  The worker writes this format in transport_send.c
 * (encode_anonymous_record).
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
		char		name[16];

		/* the names ROW(...) gives its fields (the binary form has none) */
		snprintf(name, sizeof(name), "f%d", i + 1);

		if (len != -1 && (len < 0 || len > buf->len - buf->cursor))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("invalid field length in anonymous record")));
		if (coltype == InvalidOid)
		{
			/* a field without binary I/O: its type, then its text form */
			if (len < (int) sizeof(int32))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
						 errmsg("invalid text field in anonymous record")));
			coltype = pq_getmsgint(buf, 4);
			len -= sizeof(int32);
			TupleDescInitEntry(tupdesc, i + 1, name, coltype, -1, 0);
			values[i] = decode_text_field(coltype, buf->data + buf->cursor,
										  len);
			buf->cursor += len;
			continue;
		}
		TupleDescInitEntry(tupdesc, i + 1, name, coltype, -1, 0);
		if (len == -1)
			nulls[i] = true;
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
 * Bytes in, bytes out.  The worker sends every value in the database
 * encoding (its client encoding is the database encoding), but binary
 * receive functions that read text (textrecv, enum_recv, jsonb_recv,
 * tsvectorrecv, record_recv and array_recv for the text inside them, and
 * any extension type's that calls pq_getmsgtext) convert it from the
 * *caller's* client encoding: with a LATIN1 client, UTF8 bytes would be
 * converted a second time.  So values are received with the client
 * encoding switched to the database encoding for the time of one row
 * (SetClientEncoding to the database encoding needs no conversion function
 * and cannot fail; switching back finds the conversion functions cached
 * when the caller set its encoding).  This covers every type at every
 * depth, including those we do not know, which sending text-like types as
 * text would not: a composite's text form would also depend on settings
 * such as DateStyle that the worker's SQL may change.
 *
 * User code can run inside the window (a domain's CHECK, an input
 * function) and raise notices, or die with a FATAL, and those messages
 * must reach the client in its own encoding.  While the window is open the
 * messages to the client go through window_putmessage, which builds them
 * again with the caller's encoding switched back on.  An error closes the
 * window before it propagates.
 */
static int	window_saved_encoding = -1; /* >= 0: switched, from this */
static const PQcommMethods *window_saved_methods = NULL;
static PQcommMethods window_methods;

/*
 * ErrorResponse and NoticeResponse are (code, string) pairs and a zero
 * byte; ParameterStatus is two strings.  Copy them into buf, each string
 * converted to the client encoding; false if the message is not one of
 * those or not well formed (it then goes out as it is).
 */
static bool
window_convert_message(char msgtype, const char *s, size_t len,
					   StringInfo buf)
{
	PgbgReader	r = {s, (int) len, 0};
	const char *str;

	if (len > (size_t) PG_INT32_MAX)
		return false;
	if (msgtype == 'S')
	{
		if (!reader_string(&r, &str))
			return false;
		pq_sendstring(buf, str);
		if (!reader_string(&r, &str) || r.pos != r.len)
			return false;
		pq_sendstring(buf, str);
		return true;
	}
	if (msgtype != 'E' && msgtype != 'N')
		return false;
	for (;;)
	{
		char		code;

		if (r.pos >= r.len)
			return false;
		code = r.data[r.pos++];
		pq_sendbyte(buf, code);
		if (code == '\0')
			return r.pos == r.len;
		if (!reader_string(&r, &str))
			return false;
		pq_sendstring(buf, str);
	}
}

static int
window_putmessage(char msgtype, const char *s, size_t len)
{
	StringInfoData buf;
	int			result;
	bool		converted;

	if (window_saved_encoding < 0)
		return window_saved_methods->putmessage(msgtype, s, len);

	initStringInfo(&buf);
	(void) SetClientEncoding(window_saved_encoding);
	PG_TRY();
	{
		converted = window_convert_message(msgtype, s, len, &buf);
		if (converted)
			result = window_saved_methods->putmessage(msgtype, buf.data,
													  buf.len);
		else
			result = window_saved_methods->putmessage(msgtype, s, len);
	}
	PG_CATCH();
	{
		(void) SetClientEncoding(GetDatabaseEncoding());
		PG_RE_THROW();
	}
	PG_END_TRY();
	(void) SetClientEncoding(GetDatabaseEncoding());
	pfree(buf.data);
	return result;
}

/*
 * Open the window; false when there is nothing to do: the encodings are
 * the same, or the window is already open (user code run while decoding
 * reads another worker's rows).
 */
static bool
window_open(void)
{
	if (window_saved_encoding >= 0 ||
		pg_get_client_encoding() == GetDatabaseEncoding() ||
		whereToSendOutput != DestRemote)
		return false;
	window_saved_methods = PqCommMethods;
	window_methods = *PqCommMethods;
	window_methods.putmessage = window_putmessage;
	PqCommMethods = &window_methods;
	window_saved_encoding = pg_get_client_encoding();
	(void) SetClientEncoding(GetDatabaseEncoding());
	return true;
}

static void
window_close(void)
{
	(void) SetClientEncoding(window_saved_encoding);
	window_saved_encoding = -1;
	PqCommMethods = window_saved_methods;
}

static void decode_datarow_columns(PgbgReader *r, PgbgRowDesc *desc,
								   TupleDesc tupdesc, FmgrInfo *finfo,
								   Oid *typioparams, Datum *values,
								   bool *nulls, StringInfo scratch);

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

	if (!window_open())
		decode_datarow_columns(&r, desc, tupdesc, finfo, typioparams,
							   values, nulls, scratch);
	else
	{
		PG_TRY();
		{
			decode_datarow_columns(&r, desc, tupdesc, finfo, typioparams,
								   values, nulls, scratch);
		}
		PG_CATCH();
		{
			window_close();
			PG_RE_THROW();
		}
		PG_END_TRY();
		window_close();
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

/* The columns of one data row, decoded inside the encoding window. */
static void
decode_datarow_columns(PgbgReader *rp, PgbgRowDesc *desc, TupleDesc tupdesc,
					   FmgrInfo *finfo, Oid *typioparams, Datum *values,
					   bool *nulls, StringInfo scratch)
{
	PgbgReader	r = *rp;
	int			natts = tupdesc->natts;
	int			nestlevel = -1;
	int			i;

	for (i = 0; i < natts; i++)
		if (desc->cols[i].format == 0)
		{
			nestlevel = pgbg_transmission_modes_set();
			break;
		}

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
	if (nestlevel >= 0)
		pgbg_transmission_modes_reset(nestlevel);
	*rp = r;
}

/*
 * Rows sent as MinimalTuples (transport_send.c): a message holds one or
 * more tuples back to back, each starting with its length (t_len).  The
 * worker runs the same server binary in the same database, so its tuples
 * are ours: a column whose type in the column definition list is the type
 * the worker reported is taken as it is.  A column the list declares as a
 * domain over that type (the only difference pgbg_check_rowtype allows)
 * goes through the worker type's output function and the domain's input
 * function, which checks the domain's constraints and type modifier, as a
 * text column of a data row would.
 */
typedef struct PgbgTupleDecoder
{
	TupleDesc	tupdesc;		/* the column definition list */
	TupleTableSlot *slot;		/* of the worker's row type */
	bool		direct;			/* no column needs converting */
	bool	   *convert;		/* per column: through text */
	FmgrInfo   *outfn;			/* the worker's type's output function */
	FmgrInfo   *infn;			/* the list's type's input function */
	Oid		   *typioparams;
	Datum	   *values;
	bool	   *nulls;
	MemoryContext cxt;			/* where the decoder lives */
	char	   *part;			/* a row sent in parts, as far as received */
	uint32		part_size;		/* allocated */
	uint32		part_len;		/* bytes received; 0: none pending */
	uint32		part_want;		/* its t_len */
} PgbgTupleDecoder;

PgbgTupleDecoder *
pgbg_prepare_tuple_decoder(PgbgRowDesc *desc, TupleDesc tupdesc)
{
	PgbgTupleDecoder *dec = palloc0(sizeof(PgbgTupleDecoder));
	int			natts = tupdesc->natts;
	TupleDesc	srcdesc;
	int			i;

	dec->tupdesc = tupdesc;
	dec->cxt = CurrentMemoryContext;
	dec->direct = true;
	dec->convert = palloc0(sizeof(bool) * Max(natts, 1));
	dec->outfn = palloc0(sizeof(FmgrInfo) * Max(natts, 1));
	dec->infn = palloc0(sizeof(FmgrInfo) * Max(natts, 1));
	dec->typioparams = palloc0(sizeof(Oid) * Max(natts, 1));
	dec->values = palloc0(sizeof(Datum) * Max(natts, 1));
	dec->nulls = palloc0(sizeof(bool) * Max(natts, 1));

	/* the row description reports base types; same storage as the domain */
	srcdesc = CreateTemplateTupleDesc(natts);
	for (i = 0; i < natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		PgbgColumn *col = &desc->cols[i];

		TupleDescInitEntry(srcdesc, i + 1, NameStr(att->attname),
						   col->typid, col->typmod, 0);
		if (col->typid != att->atttypid)
		{
			Oid			func;
			bool		isvarlena;

			dec->direct = false;
			dec->convert[i] = true;
			getTypeOutputInfo(col->typid, &func, &isvarlena);
			fmgr_info(func, &dec->outfn[i]);
			getTypeInputInfo(att->atttypid, &func, &dec->typioparams[i]);
			fmgr_info(func, &dec->infn[i]);
		}
	}
	dec->slot = MakeSingleTupleTableSlot(dec->direct ?
										 CreateTupleDescCopy(tupdesc) : srcdesc,
										 &TTSOpsMinimalTuple);
	return dec;
}

static void
decode_tuples_malformed(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROTOCOL_VIOLATION),
			 errmsg("malformed tuple message from pg_background worker"),
			 errdetail_internal("%s", detail)));
}

/*
 * Put one tuple of tlen bytes (MAXALIGNed; owned by the caller) into the
 * result.
 */
static void
decode_one_tuple(PgbgTupleDecoder *dec, MinimalTuple mtup, uint32 tlen,
				 Tuplestorestate *tupstore)
{
	int			natts = dec->tupdesc->natts;
	int			i;

	if ((mtup->t_infomask2 & HEAP_NATTS_MASK) != natts ||
		mtup->t_hoff < MINIMAL_TUPLE_OFFSET ||
		mtup->t_hoff - MINIMAL_TUPLE_OFFSET > tlen)
		decode_tuples_malformed("A tuple has a wrong column count or header.");

	ExecStoreMinimalTuple(mtup, dec->slot, false);
	if (dec->direct)
	{
		tuplestore_puttupleslot(tupstore, dec->slot);
		ExecClearTuple(dec->slot);
		return;
	}

	slot_getallattrs(dec->slot);
	for (i = 0; i < natts; i++)
	{
		Datum		value = dec->slot->tts_values[i];
		bool		isnull = dec->slot->tts_isnull[i];
		int32		typmod = TupleDescAttr(dec->tupdesc, i)->atttypmod;

		dec->nulls[i] = isnull;
		if (!dec->convert[i])
			dec->values[i] = value;
		else if (isnull)		/* let the domain see the NULL */
			dec->values[i] = InputFunctionCall(&dec->infn[i], NULL,
											   dec->typioparams[i],
											   typmod);
		else
			dec->values[i] =
				InputFunctionCall(&dec->infn[i],
								  OutputFunctionCall(&dec->outfn[i], value),
								  dec->typioparams[i], typmod);
	}
	tuplestore_putvalues(tupstore, dec->tupdesc, dec->values, dec->nulls);
	ExecClearTuple(dec->slot);
}

/*
 * A message of tuples: PGBG_TUPLE_BATCH_PAD bytes of padding, then each
 * tuple (its length, t_len, first) padded to MAXALIGN.  Where the message
 * itself is MAXALIGNed past its type byte -- as shm_mq_receive returns it,
 * in place or reassembled -- the tuples are read where they are, and
 * tuplestore_puttupleslot makes the one copy the result keeps.  Messages
 * read back from the local buffer are not: each tuple is copied out first.
 */
void
pgbg_decode_tuples(const char *data, int len, PgbgTupleDecoder *dec,
				   Tuplestorestate *tupstore)
{
	int			nestlevel = -1;
	int			pos = PGBG_TUPLE_BATCH_PAD;
	bool		in_place;

	if (len <= pos)
		decode_tuples_malformed("The message is empty.");
	pgbg_check_tuple_parts(dec);
	in_place = ((uintptr_t) (data + pos)) % MAXIMUM_ALIGNOF == 0;
	if (!dec->direct)
		nestlevel = pgbg_transmission_modes_set();

	while (pos < len)
	{
		uint32		tlen;
		MinimalTuple mtup;

		CHECK_FOR_INTERRUPTS();
		if (len - pos < (int) sizeof(tlen))
			tlen = 0;
		else
			memcpy(&tlen, data + pos, sizeof(tlen));
		if (tlen < SizeofMinimalTupleHeader ||
			MAXALIGN(tlen) > (uint32) (len - pos))
			decode_tuples_malformed("A tuple has an invalid length.");

		if (in_place)
			mtup = (MinimalTuple) (data + pos);
		else
		{
			/* aligned, as deforming needs */
			mtup = palloc(tlen);
			memcpy(mtup, data + pos, tlen);
		}
		pos += MAXALIGN(tlen);
		decode_one_tuple(dec, mtup, tlen, tupstore);
		if (!in_place)
			pfree(mtup);
	}
	if (nestlevel >= 0)
		pgbg_transmission_modes_reset(nestlevel);
}

/*
 * A part of a row too large for a batch: its bytes in order, the first
 * part starting with its length (t_len).  They are gathered in a buffer
 * of the decoder's, kept for the next large row unless it is over 1 MB.
 */
void
pgbg_decode_tuple_part(const char *data, int len, PgbgTupleDecoder *dec,
					   Tuplestorestate *tupstore)
{
	int			nestlevel = -1;

	CHECK_FOR_INTERRUPTS();
	if (len <= 0)
		decode_tuples_malformed("The message is empty.");
	if (dec->part_len == 0)
	{
		uint32		tlen = 0;

		if (len >= (int) sizeof(tlen))
			memcpy(&tlen, data, sizeof(tlen));
		if (tlen < SizeofMinimalTupleHeader || !AllocSizeIsValid(tlen))
			decode_tuples_malformed("A tuple has an invalid length.");
		if (dec->part != NULL && dec->part_size < tlen)
		{
			pfree(dec->part);
			dec->part = NULL;
		}
		if (dec->part == NULL)
		{
			dec->part = MemoryContextAlloc(dec->cxt, tlen);
			dec->part_size = tlen;
		}
		dec->part_want = tlen;
	}
	if ((uint32) len > dec->part_want - dec->part_len)
		decode_tuples_malformed("A part of a tuple runs past its end.");
	memcpy(dec->part + dec->part_len, data, len);
	dec->part_len += len;
	if (dec->part_len < dec->part_want)
		return;

	dec->part_len = 0;
	if (!dec->direct)
		nestlevel = pgbg_transmission_modes_set();
	decode_one_tuple(dec, (MinimalTuple) dec->part, dec->part_want, tupstore);
	if (nestlevel >= 0)
		pgbg_transmission_modes_reset(nestlevel);
	if (dec->part_want > 1024 * 1024)
	{
		pfree(dec->part);
		dec->part = NULL;
	}
}

/* Any message but the next part of a row sent in parts ends that row early. */
void
pgbg_check_tuple_parts(PgbgTupleDecoder *dec)
{
	if (dec != NULL && dec->part_len > 0)
		decode_tuples_malformed("A tuple sent in parts is incomplete.");
}

#endif							/* PGBG_TRANSPORT_PARSERS_ONLY */
