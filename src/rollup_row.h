/*
 * rollup_row.h
 *		Applying one claudecost.usage row to the daily and hourly rollups.
 */
#ifndef ROLLUP_ROW_H
#define ROLLUP_ROW_H

#include "executor/tuptable.h"
#include "utils/rel.h"

extern bool rollup_row_has_detail(Relation usage, TupleTableSlot *row);
extern void rollup_row_apply(Relation usage, TupleTableSlot *row, int sign);

#endif							/* ROLLUP_ROW_H */
