/*
 * bpe.c
 *		Byte-pair merge of one piece, in the order tiktoken uses.
 *
 * tiktoken's byte_pair_merge rescans all parts after every merge, which is
 * quadratic in the piece length: a megabyte without a break would take
 * hours.  Short pieces (nearly all of them) use that same scan because it is
 * fastest there.  Longer pieces keep the parts in a linked list and the
 * candidate pairs in an indexed binary heap ordered by (rank, start), which
 * picks exactly the pair tiktoken picks, the lowest rank and the leftmost of
 * equal ranks, in O(n log n) time and 20 bytes of scratch per input byte.
 */
#include "bpe.h"

#define MIN_CAPACITY 256

/* Grows state->ids to hold at least needed ids. */
static void
reserve_ids(BpeState *state, size_t needed)
{
	size_t		capacity = state->capacity < MIN_CAPACITY ? MIN_CAPACITY : state->capacity;

	while (capacity < needed)
		capacity *= 2;
	state->ids = state->allocator->realloc_fn(state->allocator->context, state->ids,
											  capacity * sizeof(uint32_t));
	state->capacity = capacity;
}

void
bpe_state_init(BpeState *state, const BpeAllocator *allocator, int store_ids)
{
	memset(state, 0, sizeof(*state));
	state->allocator = allocator;
	state->store_ids = store_ids;
	state->max_piece_len = SIZE_MAX;
}

void
bpe_state_free(BpeState *state)
{
	if (state->allocator->free_fn != NULL)
	{
		if (state->ids != NULL)
			state->allocator->free_fn(state->allocator->context, state->ids);
		if (state->scratch != NULL)
			state->allocator->free_fn(state->allocator->context, state->scratch);
	}
	state->ids = NULL;
	state->scratch = NULL;
	state->capacity = 0;
	state->scratch_bytes = 0;
}

void
bpe_emit(BpeState *state, uint32_t id)
{
	if (state->store_ids)
	{
		if (state->count >= state->capacity)
			reserve_ids(state, state->count + 1);
		state->ids[state->count] = id;
	}
	state->count++;
}

void
bpe_encode_piece_scan(const BpeVocab *vocab, BpeState *state,
					  const unsigned char *piece, size_t len)
{
	/* part i starts at start[i] and rank[i] is the rank of parts i and i+1 merged */
	size_t		start_small[BPE_SHORT_PIECE + 2];
	uint32_t	rank_small[BPE_SHORT_PIECE + 2];
	size_t	   *start = start_small;
	uint32_t   *rank = rank_small;
	size_t		n_parts;
	size_t		i;

	if (len + 2 > BPE_SHORT_PIECE + 2)
	{
		start = state->allocator->realloc_fn(state->allocator->context, NULL,
											 (len + 2) * sizeof(size_t));
		rank = state->allocator->realloc_fn(state->allocator->context, NULL,
											(len + 2) * sizeof(uint32_t));
	}

	for (i = 0; i + 1 < len; i++)
	{
		start[i] = i;
		rank[i] = bpe_rank(vocab, piece + i, 2);
	}
	start[len - 1] = len - 1;
	rank[len - 1] = BPE_NO_RANK;
	start[len] = len;
	rank[len] = BPE_NO_RANK;
	n_parts = len + 1;			/* including the end sentinel */

	for (;;)
	{
		uint32_t	min_rank = BPE_NO_RANK;
		size_t		min_index = 0;

		for (i = 0; i + 1 < n_parts; i++)
		{
			if (rank[i] < min_rank)
			{
				min_rank = rank[i];
				min_index = i;
			}
		}
		if (min_rank == BPE_NO_RANK)
			break;

		/* merge parts min_index and min_index + 1 */
		i = min_index;
		memmove(start + i + 1, start + i + 2, (n_parts - i - 2) * sizeof(size_t));
		memmove(rank + i + 1, rank + i + 2, (n_parts - i - 2) * sizeof(uint32_t));
		n_parts--;
		rank[i] = (i + 2 < n_parts)
			? bpe_rank(vocab, piece + start[i], start[i + 2] - start[i])
			: BPE_NO_RANK;
		if (i > 0)
			rank[i - 1] = bpe_rank(vocab, piece + start[i - 1], start[i + 1] - start[i - 1]);
		if (state->allocator->check_interrupts != NULL && (n_parts & 0xfff) == 0)
			state->allocator->check_interrupts();
	}

	for (i = 0; i + 1 < n_parts; i++)
		bpe_emit(state, bpe_rank(vocab, piece + start[i], start[i + 1] - start[i]));

	if (start != start_small && state->allocator->free_fn != NULL)
	{
		state->allocator->free_fn(state->allocator->context, start);
		state->allocator->free_fn(state->allocator->context, rank);
	}
}

/* Heap order: lower rank first, then lower start position (leftmost). */
#define HEAP_BEFORE(a, b) \
	(pair_rank[a] < pair_rank[b] || (pair_rank[a] == pair_rank[b] && (a) < (b)))
#define NOT_IN_HEAP UINT32_MAX

static void
heap_sift_up(uint32_t *heap, uint32_t *heap_index, const uint32_t *pair_rank, uint32_t at)
{
	uint32_t	item = heap[at];

	while (at > 0)
	{
		uint32_t	parent = (at - 1) / 2;

		if (!HEAP_BEFORE(item, heap[parent]))
			break;
		heap[at] = heap[parent];
		heap_index[heap[at]] = at;
		at = parent;
	}
	heap[at] = item;
	heap_index[item] = at;
}

static void
heap_sift_down(uint32_t *heap, uint32_t *heap_index, const uint32_t *pair_rank,
			   uint32_t size, uint32_t at)
{
	uint32_t	item = heap[at];

	for (;;)
	{
		uint32_t	child = 2 * at + 1;

		if (child >= size)
			break;
		if (child + 1 < size && HEAP_BEFORE(heap[child + 1], heap[child]))
			child++;
		if (!HEAP_BEFORE(heap[child], item))
			break;
		heap[at] = heap[child];
		heap_index[heap[at]] = at;
		at = child;
	}
	heap[at] = item;
	heap_index[item] = at;
}

/* Removes position from the heap if it is there. */
static void
heap_remove(uint32_t *heap, uint32_t *heap_index, const uint32_t *pair_rank,
			uint32_t *size, uint32_t position)
{
	uint32_t	at = heap_index[position];
	uint32_t	last;

	if (at == NOT_IN_HEAP)
		return;
	heap_index[position] = NOT_IN_HEAP;
	(*size)--;
	if (at == *size)
		return;
	last = heap[*size];
	heap[at] = last;
	heap_index[last] = at;
	heap_sift_down(heap, heap_index, pair_rank, *size, at);
	if (heap[at] == last)
		heap_sift_up(heap, heap_index, pair_rank, at);
}

/* Sets the pair rank of position and moves it in, within or out of the heap. */
static void
heap_update(uint32_t *heap, uint32_t *heap_index, uint32_t *pair_rank,
			uint32_t *size, uint32_t position, uint32_t rank)
{
	uint32_t	at = heap_index[position];

	if (rank == BPE_NO_RANK)
	{
		heap_remove(heap, heap_index, pair_rank, size, position);
		pair_rank[position] = rank;
		return;
	}
	pair_rank[position] = rank;
	if (at == NOT_IN_HEAP)
	{
		at = (*size)++;
		heap[at] = position;
		heap_index[position] = at;
		heap_sift_up(heap, heap_index, pair_rank, at);
		return;
	}
	heap_sift_up(heap, heap_index, pair_rank, at);
	heap_sift_down(heap, heap_index, pair_rank, *size, heap_index[position]);
}

int
bpe_encode_piece_heap(const BpeVocab *vocab, BpeState *state,
					  const unsigned char *piece, size_t len)
{
	uint32_t   *next;
	uint32_t   *prev;
	uint32_t   *pair_rank;
	uint32_t   *heap;
	uint32_t   *heap_index;
	uint32_t	heap_size = 0;
	uint32_t	n = (uint32_t) len;
	uint32_t	i;
	uint32_t	merges = 0;
	size_t		needed;

	if (len > state->max_piece_len || len >= UINT32_MAX / 2)
		return BPE_PIECE_TOO_LONG;
	needed = 5 * len * sizeof(uint32_t);
	if (state->scratch_bytes < needed)
	{
		if (state->scratch != NULL && state->allocator->free_fn != NULL)
			state->allocator->free_fn(state->allocator->context, state->scratch);
		state->scratch = NULL;
		state->scratch = state->allocator->realloc_fn(state->allocator->context, NULL, needed);
		state->scratch_bytes = needed;
	}
	next = state->scratch;
	prev = next + len;
	pair_rank = prev + len;
	heap = pair_rank + len;
	heap_index = heap + len;

	for (i = 0; i < n; i++)
	{
		next[i] = i + 1;
		prev[i] = i - 1;		/* wraps for i = 0, never read */
		heap_index[i] = NOT_IN_HEAP;
		pair_rank[i] = (i + 1 < n) ? bpe_rank(vocab, piece + i, 2) : BPE_NO_RANK;
		if (pair_rank[i] != BPE_NO_RANK)
		{
			heap[heap_size] = i;
			heap_index[i] = heap_size;
			heap_size++;
		}
	}
	/* heapify */
	for (i = heap_size / 2; i-- > 0;)
		heap_sift_down(heap, heap_index, pair_rank, heap_size, i);

	while (heap_size > 0)
	{
		uint32_t	left = heap[0];
		uint32_t	right = next[left];
		uint32_t	after;

		/* merge the part at left with the part at right */
		heap_remove(heap, heap_index, pair_rank, &heap_size, right);
		after = next[right];
		next[left] = after;
		if (after < n)
			prev[after] = left;
		heap_update(heap, heap_index, pair_rank, &heap_size, left,
					after < n ? bpe_rank(vocab, piece + left, next[after] - left) : BPE_NO_RANK);
		if (left > 0)
		{
			uint32_t	before = prev[left];

			heap_update(heap, heap_index, pair_rank, &heap_size, before,
						bpe_rank(vocab, piece + before, after - before));
		}
		if (state->allocator->check_interrupts != NULL && (++merges & 0xffff) == 0)
			state->allocator->check_interrupts();
	}

	for (i = 0; i < n; i = next[i])
		bpe_emit(state, bpe_rank(vocab, piece + i, next[i] - i));
	return BPE_OK;
}

int
bpe_encode_piece(const BpeVocab *vocab, BpeState *state,
				 const unsigned char *piece, size_t len)
{
	uint32_t	id;

	if (len == 0)
		return BPE_OK;
	id = bpe_rank(vocab, piece, len);
	if (id != BPE_NO_RANK)
	{
		bpe_emit(state, id);
		return BPE_OK;
	}
	if (len <= BPE_SHORT_PIECE)
	{
		bpe_encode_piece_scan(vocab, state, piece, len);
		return BPE_OK;
	}
	return bpe_encode_piece_heap(vocab, state, piece, len);
}
