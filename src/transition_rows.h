/*
 * transition_rows.h
 *		Reading a statement trigger's transition tables from C.
 */
#ifndef TRANSITION_ROWS_H
#define TRANSITION_ROWS_H

#include "executor/tuptable.h"
#include "utils/tuplestore.h"

/* A forward scan over one transition table with a read pointer of its own. */
typedef struct TransitionScan
{
	Tuplestorestate *table;
	int			read_pointer;
	TupleTableSlot *slot;
} TransitionScan;

extern int64 transition_row_count(Tuplestorestate *table);
extern void transition_scan_begin(TransitionScan *scan, Tuplestorestate *table, TupleDesc desc);
extern bool transition_scan_next(TransitionScan *scan);
extern void transition_scan_end(TransitionScan *scan);

#endif							/* TRANSITION_ROWS_H */
