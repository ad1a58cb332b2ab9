/*-------------------------------------------------------------------------
 *
 * pgbg_fuzz.c
 *		libFuzzer harness for the launcher-side message parsers of
 *		transport.c: RowDescription, ErrorResponse/NoticeResponse and
 *		CommandComplete, fed arbitrary bytes.
 *
 * The parsers are built from transport.c with PGBG_TRANSPORT_PARSERS_ONLY,
 * so they need only the few allocation functions stubbed below (backed by
 * malloc, freed after every input so LeakSanitizer stays quiet).
 *
 * The first input byte picks the parser, the rest is the message body.
 * Besides "no crash", the harness checks what the parsers promise: a
 * parsed row description has 0..MaxTupleAttributeNumber columns with
 * format 0 or 1, a parsed error has a message, a parsed tag is a string
 * inside the input.
 *
 * Copyright (c) 2026, pg_background contributors
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "access/htup_details.h"
#include "utils/elog.h"

#include "pg_background.h"

/* port.h maps these to libpgport, which the harness does not link */
#undef vsnprintf
#undef snprintf

/* ---- stubs for the backend functions the parsers use ---- */

MemoryContext CurrentMemoryContext = NULL;

#define MAX_ALLOCS 65536
static void *allocs[MAX_ALLOCS];
static int	nallocs = 0;

static void *
remember(void *p)
{
	if (p == NULL || nallocs >= MAX_ALLOCS)
		abort();
	allocs[nallocs++] = p;
	return p;
}

static void
forget_all(void)
{
	while (nallocs > 0)
		free(allocs[--nallocs]);
}

void *
palloc0(Size size)
{
	return remember(calloc(1, size ? size : 1));
}

char *
pstrdup(const char *in)
{
	return remember(strdup(in));
}

char *
psprintf(const char *fmt,...)
{
	va_list		args;
	char	   *buf = remember(malloc(1024));

	va_start(args, fmt);
	vsnprintf(buf, 1024, fmt, args);
	va_end(args);
	return buf;
}

/* ---- the fuzz target ---- */

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body;
	int			len;
	char	   *copy;

	if (size < 1 || size > 1024 * 1024)
		return 0;

	/* an exact-size heap copy, so ASan sees any read past the end */
	len = (int) size - 1;
	copy = malloc(len > 0 ? len : 1);
	memcpy(copy, data + 1, len);
	body = copy;

	switch (data[0] % 3)
	{
		case 0:
			{
				PgbgRowDesc desc;
				char	   *why = NULL;

				if (pgbg_parse_rowdesc(body, len, &desc, &why))
				{
					int			i;

					if (desc.natts < 0 || desc.natts > MaxTupleAttributeNumber)
						abort();
					for (i = 0; i < desc.natts; i++)
						if (desc.cols[i].format != 0 && desc.cols[i].format != 1)
							abort();
				}
				else if (why == NULL)
					abort();
				break;
			}
		case 1:
			{
				ErrorData	edata;

				if (pgbg_parse_errornotice(body, len, &edata) &&
					edata.message == NULL)
					abort();
				break;
			}
		case 2:
			{
				const char *tag;

				if (pgbg_parse_command_tag(body, len, &tag) &&
					(tag < body || tag + strlen(tag) >= body + len))
					abort();
				break;
			}
	}
	free(copy);
	forget_all();
	return 0;
}
