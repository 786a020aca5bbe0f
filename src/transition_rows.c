/*
 * transition_rows.c
 *		Reading a statement trigger's transition tables from C.
 *
 * Several statement triggers read the same tuplestores, and the executor
 * positions the read pointer of a transition-table scan from read pointer 0.
 * A scan here therefore allocates a read pointer of its own, rewinds it and
 * selects pointer 0 again when it ends, so it moves no other reader.
 */
#include "postgres.h"

#include "executor/executor.h"

#include "transition_rows.h"

/* Number of rows in a transition table; 0 when the trigger has none. */
int64
transition_row_count(Tuplestorestate *table)
{
	return table == NULL ? 0 : tuplestore_tuple_count(table);
}

/* Starts a scan of table, whose rows have the descriptor desc. */
void
transition_scan_begin(TransitionScan *scan, Tuplestorestate *table, TupleDesc desc)
{
	scan->table = table;
	scan->slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	scan->read_pointer = tuplestore_alloc_read_pointer(table, EXEC_FLAG_REWIND);
	tuplestore_select_read_pointer(table, scan->read_pointer);
	tuplestore_rescan(table);
}

/* Loads the next row into scan->slot; false after the last row. */
bool
transition_scan_next(TransitionScan *scan)
{
	tuplestore_select_read_pointer(scan->table, scan->read_pointer);
	return tuplestore_gettupleslot(scan->table, true, false, scan->slot);
}

/* Ends the scan and selects read pointer 0 again. */
void
transition_scan_end(TransitionScan *scan)
{
	tuplestore_select_read_pointer(scan->table, 0);
	ExecDropSingleTupleTableSlot(scan->slot);
	scan->slot = NULL;
}
