/*
 * bpe.c
 *		Byte-pair merge of one piece, in the order tiktoken uses.
 *
 * tiktoken's byte_pair_merge rescans all parts after every merge, which is
 * quadratic in the piece length: a megabyte without a break would take
 * hours.  Short pieces (nearly all of them) use that same scan because it is
 * fastest there.  Longer pieces use a bucket queue of candidate pairs by
 * rank (queue_merge), and pieces of 24 KB or more are merged in regions of
 * about 8 KB joined at provably safe cuts (encode_piece_regions), which
 * keeps the work linear and in cache.  The scan and the queue find the rank
 * of two adjacent parts by their ids in the merge table (bpe_merge_rank).
 * An indexed binary heap ordered by (rank, start), which looks ranks up by
 * the joined bytes, is the fallback for a vocabulary where a merge can
 * create a lower-ranked pair.  Every algorithm picks the pair tiktoken
 * picks: the lowest rank, and the leftmost of equal ranks.
 */
#include <stdbool.h>

#include "bpe.h"

#define MIN_CAPACITY 256

/*
 * Forces inlining of the merge step into the merge loop, which then keeps
 * the merge state in registers; GCC leaves it out of line otherwise.
 */
#if defined(__GNUC__)
#define BPE_ALWAYS_INLINE __attribute__((always_inline))
#else
#define BPE_ALWAYS_INLINE
#endif

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

/* Makes the scratch buffer at least needed bytes long. */
static void
reserve_scratch(BpeState *state, size_t needed)
{
	if (state->scratch_bytes >= needed)
		return;
	if (state->scratch != NULL && state->allocator->free_fn != NULL)
		state->allocator->free_fn(state->allocator->context, state->scratch);
	state->scratch = NULL;
	state->scratch = state->allocator->realloc_fn(state->allocator->context, NULL, needed);
	state->scratch_bytes = needed;
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
		void	   *buffers[] = {state->rank_head, state->rank_bits, state->rank_words,
		state->entry_pos, state->entry_next, state->batch};
		size_t		b;

		for (b = 0; b < sizeof(buffers) / sizeof(buffers[0]); b++)
			if (buffers[b] != NULL)
				state->allocator->free_fn(state->allocator->context, buffers[b]);
		if (state->ids != NULL)
			state->allocator->free_fn(state->allocator->context, state->ids);
		if (state->scratch != NULL)
			state->allocator->free_fn(state->allocator->context, state->scratch);
	}
	state->rank_head = NULL;
	state->rank_bits = NULL;
	state->rank_words = NULL;
	state->rank_slots = 0;
	state->entry_pos = NULL;
	state->entry_next = NULL;
	state->entry_count = 0;
	state->entry_capacity = 0;
	state->batch = NULL;
	state->batch_capacity = 0;
	state->ids = NULL;
	state->scratch = NULL;
	state->capacity = 0;
	state->scratch_bytes = 0;
}

void
bpe_emit(BpeState *state, uint32_t id)
{
	if (state->store_ids && state->max_ids != 0 && state->count >= state->max_ids)
	{
		state->store_ids = 0;
		state->ids_overflow = 1;
	}
	if (state->store_ids)
	{
		if (state->count >= state->capacity)
			reserve_ids(state, state->count + 1);
		state->ids[state->count] = id;
	}
	state->count++;
}

/*
 * Id of the token that merging parts left_id and right_id makes, whose
 * bytes lie at bytes[0 .. len), or BPE_NO_RANK.
 */
static inline uint32_t
joined_rank(const BpeVocab *vocab, uint32_t left_id, uint32_t right_id,
			const unsigned char *bytes, size_t len)
{
	if (len == 2)
		return vocab->pair_ids[(bytes[0] << 8) | bytes[1]];
	if (len > vocab->max_token_len)
		return BPE_NO_RANK;
	return bpe_merge_rank(vocab, left_id, right_id);
}

void
bpe_encode_piece_scan(const BpeVocab *vocab, BpeState *state,
					  const unsigned char *piece, size_t len)
{
	/*
	 * Part i starts at start[i] and has id part_id[i]; rank[i] is the rank
	 * of parts i and i+1 merged.
	 */
	size_t		start_small[BPE_SHORT_PIECE + 2];
	uint32_t	rank_small[BPE_SHORT_PIECE + 2];
	uint32_t	id_small[BPE_SHORT_PIECE + 2];
	size_t	   *start = start_small;
	uint32_t   *rank = rank_small;
	uint32_t   *part_id = id_small;
	size_t		n_parts;
	size_t		i;

	if (len + 2 > BPE_SHORT_PIECE + 2)
	{
		start = state->allocator->realloc_fn(state->allocator->context, NULL,
											 (len + 2) * sizeof(size_t));
		rank = state->allocator->realloc_fn(state->allocator->context, NULL,
											(len + 2) * sizeof(uint32_t));
		part_id = state->allocator->realloc_fn(state->allocator->context, NULL,
											   (len + 2) * sizeof(uint32_t));
	}

	for (i = 0; i < len; i++)
		part_id[i] = vocab->byte_ids[piece[i]];
	for (i = 0; i + 1 < len; i++)
	{
		start[i] = i;
		rank[i] = vocab->pair_ids[(piece[i] << 8) | piece[i + 1]];
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
		memmove(part_id + i + 1, part_id + i + 2, (n_parts - i - 2) * sizeof(uint32_t));
		part_id[i] = min_rank;	/* the rank of a pair is the id of the merged token */
		n_parts--;
		rank[i] = (i + 2 < n_parts)
			? joined_rank(vocab, part_id[i], part_id[i + 1],
						  piece + start[i], start[i + 2] - start[i])
			: BPE_NO_RANK;
		if (i > 0)
			rank[i - 1] = joined_rank(vocab, part_id[i - 1], part_id[i],
									  piece + start[i - 1], start[i + 1] - start[i - 1]);
		if (state->allocator->check_interrupts != NULL && (n_parts & 0xfff) == 0)
			state->allocator->check_interrupts();
	}

	for (i = 0; i + 1 < n_parts; i++)
		bpe_emit(state, part_id[i]);

	if (start != start_small && state->allocator->free_fn != NULL)
	{
		state->allocator->free_fn(state->allocator->context, start);
		state->allocator->free_fn(state->allocator->context, rank);
		state->allocator->free_fn(state->allocator->context, part_id);
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
	reserve_scratch(state, needed);
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

/*
 * Bucket queue of candidate pairs: one list of pair starts per rank, and a
 * two-level bitmap of the ranks that have entries, so the next rank to merge
 * is found by scanning a few words.  Each entry is pushed once and popped
 * once; stale entries (a pair since merged away) are skipped when popped.
 */
#define NO_ENTRY UINT32_MAX

#define SORTED_START_MAX (1024 * 1024)

static void
queue_init(BpeState *state, const BpeVocab *vocab, uint32_t n_ranks)
{
	void	   *context = state->allocator->context;
	uint32_t	words;

	state->entry_count = 0;
	if (state->rank_slots >= n_ranks)
		return;
	words = (n_ranks + 63) / 64;
	state->rank_head = state->allocator->realloc_fn(context, state->rank_head, n_ranks * sizeof(uint32_t));
	state->rank_bits = state->allocator->realloc_fn(context, state->rank_bits, words * sizeof(uint64_t));
	state->rank_words = state->allocator->realloc_fn(context, state->rank_words,
													 ((words + 63) / 64) * sizeof(uint64_t));
	memset(state->rank_head, 0xff, n_ranks * sizeof(uint32_t));
	memset(state->rank_bits, 0, words * sizeof(uint64_t));
	memset(state->rank_words, 0, ((words + 63) / 64) * sizeof(uint64_t));
	state->rank_slots = n_ranks;
}

static inline void
queue_push(BpeState *state, uint32_t rank, uint32_t position)
{
	if (state->entry_count == state->entry_capacity)
	{
		size_t		capacity = state->entry_capacity < 4096 ? 4096 : state->entry_capacity * 2;
		void	   *context = state->allocator->context;

		state->entry_pos = state->allocator->realloc_fn(context, state->entry_pos, capacity * sizeof(uint32_t));
		state->entry_next = state->allocator->realloc_fn(context, state->entry_next, capacity * sizeof(uint32_t));
		state->entry_capacity = capacity;
	}
	state->entry_pos[state->entry_count] = position;
	state->entry_next[state->entry_count] = state->rank_head[rank];
	state->rank_head[rank] = (uint32_t) state->entry_count++;
	state->rank_bits[rank / 64] |= UINT64_C(1) << (rank % 64);
	state->rank_words[rank / 4096] |= UINT64_C(1) << ((rank / 64) % 64);
}

/* Lowest rank >= from that has entries, or BPE_NO_RANK. */
static inline uint32_t
queue_next_rank(const BpeState *state, uint32_t from)
{
	uint32_t	word = from / 64;
	uint32_t	n_words = (state->rank_slots + 63) / 64;
	uint64_t	bits;
	uint32_t	summary;
	uint64_t	summary_bits;

	if (from >= state->rank_slots)
		return BPE_NO_RANK;
	bits = state->rank_bits[word] & (~UINT64_C(0) << (from % 64));
	if (bits != 0)
		return word * 64 + (uint32_t) __builtin_ctzll(bits);
	word++;
	summary = word / 64;
	if (word >= n_words)
		return BPE_NO_RANK;
	summary_bits = state->rank_words[summary] & (~UINT64_C(0) << (word % 64));
	while (summary_bits == 0)
	{
		summary++;
		if (summary * 64 >= n_words)
			return BPE_NO_RANK;
		summary_bits = state->rank_words[summary];
	}
	word = summary * 64 + (uint32_t) __builtin_ctzll(summary_bits);
	return word * 64 + (uint32_t) __builtin_ctzll(state->rank_bits[word]);
}

static inline void
batch_reserve(BpeState *state, size_t needed)
{
	if (needed > state->batch_capacity)
	{
		state->batch_capacity = state->batch_capacity < 1024 ? 1024 : state->batch_capacity * 2;
		if (state->batch_capacity < needed)
			state->batch_capacity = needed;
		state->batch = state->allocator->realloc_fn(state->allocator->context, state->batch,
													state->batch_capacity * sizeof(uint32_t));
	}
}

/* True when rank has entries in the queue. */
static inline bool
queue_has(const BpeState *state, uint32_t rank)
{
	return (state->rank_bits[rank / 64] >> (rank % 64)) & 1;
}

/*
 * Sorts keys (rank << 32 | position) by rank, keeping the position order of
 * equal ranks: a stable LSD radix sort on the rank bits, two passes of nine
 * bits (ranks stay below 2^18) whose counts are taken in one read, moving
 * keys to tmp and back.
 */
static void
sort_by_rank(uint64_t *keys, uint64_t *tmp, size_t n)
{
	size_t		low[512];
	size_t		high[512];
	size_t		total_low = 0;
	size_t		total_high = 0;
	size_t		i;

	memset(low, 0, sizeof(low));
	memset(high, 0, sizeof(high));
	for (i = 0; i < n; i++)
	{
		low[(keys[i] >> 32) & 511]++;
		high[(keys[i] >> 41) & 511]++;
	}
	for (i = 0; i < 512; i++)
	{
		size_t		c = low[i];

		low[i] = total_low;
		total_low += c;
		c = high[i];
		high[i] = total_high;
		total_high += c;
	}
	for (i = 0; i < n; i++)
		tmp[low[(keys[i] >> 32) & 511]++] = keys[i];
	for (i = 0; i < n; i++)
		keys[high[(tmp[i] >> 41) & 511]++] = tmp[i];
}

/*
 * Appends the entries of rank to state->batch[0 .. count), which contains
 * positions in ascending order, and sorts the whole batch.
 */
static size_t
queue_take(BpeState *state, uint32_t rank, size_t count)
{
	size_t		first = count;
	uint32_t	entry;
	size_t		i;
	bool		sorted = true;

	for (entry = state->rank_head[rank]; entry != NO_ENTRY; entry = state->entry_next[entry])
	{
		batch_reserve(state, count + 1);
		state->batch[count++] = state->entry_pos[entry];
	}
	state->rank_head[rank] = NO_ENTRY;
	state->rank_bits[rank / 64] &= ~(UINT64_C(1) << (rank % 64));
	if (state->rank_bits[rank / 64] == 0)
		state->rank_words[rank / 4096] &= ~(UINT64_C(1) << ((rank / 64) % 64));

	/* The list is newest first; entries are mostly pushed in position order. */
	for (i = 0; i < (count - first) / 2; i++)
	{
		uint32_t	swap = state->batch[first + i];

		state->batch[first + i] = state->batch[count - 1 - i];
		state->batch[count - 1 - i] = swap;
	}
	for (i = 1; i < count && sorted; i++)
		sorted = state->batch[i - 1] <= state->batch[i];
	if (!sorted)
	{
		/* insertion sort: batches are short and nearly sorted */
		for (i = 1; i < count; i++)
		{
			uint32_t	value = state->batch[i];
			size_t		j = i;

			while (j > 0 && state->batch[j - 1] > value)
			{
				state->batch[j] = state->batch[j - 1];
				j--;
			}
			state->batch[j] = value;
		}
	}
	return count;
}

/* Empties every list, after a merge that stopped early. */
static void
queue_clear(BpeState *state)
{
	uint32_t	rank;

	for (rank = queue_next_rank(state, 0); rank != BPE_NO_RANK; rank = queue_next_rank(state, rank + 1))
	{
		state->rank_head[rank] = NO_ENTRY;
		state->rank_bits[rank / 64] &= ~(UINT64_C(1) << (rank % 64));
		if (state->rank_bits[rank / 64] == 0)
			state->rank_words[rank / 4096] &= ~(UINT64_C(1) << ((rank / 64) % 64));
	}
}

/* Merges of one run of queue_merge, in the order they happened. */
typedef struct MergeLog
{
	uint32_t   *left;			/* start of the merged part */
	uint32_t   *end;			/* end of the merged part */
	uint32_t   *rank;
	size_t		n;
	size_t		capacity;
} MergeLog;

/* Grows log to hold at least needed merges. */
static void
log_reserve(BpeState *state, MergeLog *log, size_t needed)
{
	size_t		capacity = log->capacity < 1024 ? 1024 : log->capacity;
	void	   *context = state->allocator->context;

	if (needed <= log->capacity)
		return;
	while (capacity < needed)
		capacity *= 2;
	log->left = state->allocator->realloc_fn(context, log->left, capacity * sizeof(uint32_t));
	log->end = state->allocator->realloc_fn(context, log->end, capacity * sizeof(uint32_t));
	log->rank = state->allocator->realloc_fn(context, log->rank, capacity * sizeof(uint32_t));
	log->capacity = capacity;
}

static void
log_merge(BpeState *state, MergeLog *log, uint32_t left, uint32_t end, uint32_t rank)
{
	if (log->n == log->capacity)
		log_reserve(state, log, log->n + 1);
	log->left[log->n] = left;
	log->end[log->n] = end;
	log->rank[log->n] = rank;
	log->n++;
}

/* State of one run of queue_merge. */
typedef struct QueueMerge
{
	const BpeVocab *vocab;
	BpeState   *state;
	const unsigned char *piece;
	uint32_t	n;
	uint32_t   *next;
	uint32_t   *prev;
	uint32_t   *pair_rank;
	uint32_t   *part_id;
	MergeLog   *log;
	size_t		queued;			/* entries pushed and not yet taken */
	uint32_t	queue_min;		/* lowest rank with entries, or BPE_NO_RANK */
	uint32_t	merges;
} QueueMerge;

/*
 * Merges the pair that starts at left if its rank is still rank, and queues
 * the two pairs the merge creates.  Returns false when one of them ranks
 * below rank (see queue_merge).
 */
static inline BPE_ALWAYS_INLINE bool
merge_pair(QueueMerge *m, uint32_t left, uint32_t rank)
{
	uint32_t	right;
	uint32_t	after;
	uint32_t	new_rank;

	if (m->pair_rank[left] != rank)
		return true;			/* stale */

	right = m->next[left];
	after = m->next[right];
	m->next[left] = after;
	if (after < m->n)
		m->prev[after] = left;
	m->pair_rank[right] = BPE_NO_RANK;
	m->part_id[left] = rank;	/* the rank of a pair is the id of the merged token */
	if (m->log != NULL)
		log_merge(m->state, m->log, left, after, rank);

	/* push the pair before the merged part first, to keep lists in position order */
	if (left > 0)
	{
		uint32_t	before = m->prev[left];

		new_rank = joined_rank(m->vocab, m->part_id[before], rank,
							   m->piece + before, after - before);
		m->pair_rank[before] = new_rank;
		if (new_rank != BPE_NO_RANK)
		{
			if (new_rank < rank)
				return false;
			queue_push(m->state, new_rank, before);
			m->queued++;
			if (new_rank < m->queue_min)
				m->queue_min = new_rank;
		}
	}
	new_rank = after < m->n
		? joined_rank(m->vocab, rank, m->part_id[after],
					  m->piece + left, m->next[after] - left)
		: BPE_NO_RANK;
	m->pair_rank[left] = new_rank;
	if (new_rank != BPE_NO_RANK)
	{
		if (new_rank < rank)
			return false;
		queue_push(m->state, new_rank, left);
		m->queued++;
		if (new_rank < m->queue_min)
			m->queue_min = new_rank;
	}
	if (m->state->allocator->check_interrupts != NULL && (++m->merges & 0xffff) == 0)
		m->state->allocator->check_interrupts();
	return true;
}

/*
 * The merge loop with the bucket queue.  It merges rank by rank, lowest
 * first, and within a rank from left to right, which is tiktoken's order
 * (lowest rank, leftmost on ties) provided that a merge never creates a
 * pair of lower rank than itself.  A new pair contains the new token of rank
 * r.  In the published vocabularies such a pair, when it is a token, ranks
 * above r, because BPE training adds a token only after its parts.  Where
 * that does not hold the function returns BPE_NOT_MONOTONE and the caller
 * uses the binary heap.  The new pair cannot rank r itself, since it is
 * longer than token r.
 *
 * On BPE_OK the parts are in state->scratch: part i ends before next[i]
 * (next = scratch) and has id part_id[i] (part_id = scratch + 3 * len).
 * When log is not NULL, every merge is appended to it in order.
 */
static int
queue_merge(const BpeVocab *vocab, BpeState *state, const unsigned char *piece, size_t len,
			MergeLog *log)
{
	QueueMerge	m;
	uint32_t	n = (uint32_t) len;
	uint32_t	i;
	uint32_t	rank = 0;

	/*
	 * The initial pairs, one per byte, are sorted by rank up front, which is
	 * cheaper than pushing each into the queue, and merged straight from the
	 * sorted array while the queue has nothing of lower or equal rank.  Only
	 * pairs that merges create go through the queue.  Pieces over
	 * SORTED_START_MAX bytes (only when regions could not be used) push
	 * everything, to save memory.
	 */
	bool		sorted_start = len <= SORTED_START_MAX;
	uint64_t   *initial = NULL;
	size_t		n_initial = 0;
	size_t		at = 0;

	reserve_scratch(state, (sorted_start ? 8 : 4) * len * sizeof(uint32_t));
	m.vocab = vocab;
	m.state = state;
	m.piece = piece;
	m.n = n;
	m.next = state->scratch;
	m.prev = m.next + len;
	m.pair_rank = m.prev + len;
	m.part_id = m.pair_rank + len;
	m.log = log;
	m.queued = 0;
	m.queue_min = BPE_NO_RANK;
	m.merges = 0;
	if (sorted_start)
		initial = (uint64_t *) (m.part_id + len);
	queue_init(state, vocab, vocab->n_ids);

	for (i = 0; i < n; i++)
	{
		m.part_id[i] = vocab->byte_ids[piece[i]];
		m.next[i] = i + 1;
		m.prev[i] = i - 1;		/* wraps for i = 0, never read */
		m.pair_rank[i] = (i + 1 < n) ? vocab->pair_ids[(piece[i] << 8) | piece[i + 1]] : BPE_NO_RANK;
		if (m.pair_rank[i] == BPE_NO_RANK)
			continue;
		if (sorted_start)
			initial[n_initial++] = ((uint64_t) m.pair_rank[i] << 32) | i;
		else
		{
			queue_push(state, m.pair_rank[i], i);
			m.queued++;
			if (m.pair_rank[i] < m.queue_min)
				m.queue_min = m.pair_rank[i];
		}
	}
	if (sorted_start)
		sort_by_rank(initial, initial + len, n_initial);

	for (;;)
	{
		/* merges only create pairs ranked above the current rank */
		uint32_t	queue_rank = m.queue_min;
		uint32_t	initial_rank = at < n_initial ? (uint32_t) (initial[at] >> 32) : BPE_NO_RANK;
		size_t		count = 0;
		size_t		k;

		if (initial_rank < queue_rank)
		{
			rank = initial_rank;
			if (!merge_pair(&m, (uint32_t) initial[at++], rank))
			{
				queue_clear(state);
				return BPE_NOT_MONOTONE;
			}
			continue;
		}
		if (queue_rank == BPE_NO_RANK)
			break;

		/* both sources may have this rank: gather its positions in order */
		rank = queue_rank;
		while (at < n_initial && (uint32_t) (initial[at] >> 32) == rank)
		{
			batch_reserve(state, count + 1);
			state->batch[count++] = (uint32_t) initial[at++];
		}
		k = count;
		count = queue_take(state, rank, count);
		m.queued -= count - k;
		m.queue_min = m.queued > 0 ? queue_next_rank(state, rank + 1) : BPE_NO_RANK;
		for (k = 0; k < count; k++)
		{
			if (!merge_pair(&m, state->batch[k], rank))
			{
				queue_clear(state);
				return BPE_NOT_MONOTONE;
			}
		}
	}
	return BPE_OK;
}

int
bpe_encode_piece_queue(const BpeVocab *vocab, BpeState *state,
					   const unsigned char *piece, size_t len)
{
	uint32_t	i;
	int			result;

	if (len > state->max_piece_len || len >= UINT32_MAX / 2)
		return BPE_PIECE_TOO_LONG;
	result = queue_merge(vocab, state, piece, len, NULL);
	if (result != BPE_OK)
		return result;
	for (i = 0; i < (uint32_t) len; i = state->scratch[i])
		bpe_emit(state, state->scratch[3 * len + i]);
	return BPE_OK;
}

/*
 * Long pieces are merged region by region, each region on its own, which
 * keeps the merge in cache and makes its cost linear in the piece length.
 * Two facts make the result exact:
 *
 * 1. If position p is a token boundary of the merge of a text X, the merge
 *	  of X is the merge of X[..p) followed by the merge of X[p..), with the
 *	  same merges in the same order on each side: no merge ever joined the
 *	  pair across p, so that pair never changed which merge came next.
 *
 * 2. The merges of two adjacent texts L and R, concatenated, are the merge
 *	  of L R unless some merge of L R would join across the cut q.  The
 *	  first such merge would join the last part of L, in some version i
 *	  (a version is what the part is between two merges that extend it),
 *	  with the first part of R, in some version j, while both exist, and
 *	  it would win only if the pair is a token of rank c with c < end_i
 *	  (end_i is the rank of the merge that extends version i; that merge
 *	  lies left of the pair and wins a tie) and c <= end_j (the merge that
 *	  extends version j lies right of the pair and loses a tie).
 *	  cut_is_safe() rules this out for every pair of versions whose
 *	  lifetimes overlap.
 *
 * Region k spans about chunk bytes plus margin bytes on each side.  In a
 * piece with a long run of one character the margin is the longest token,
 * so the overlap of two regions contains token boundaries even there.
 * The cut between regions k-1 and k is a position in their overlap that is
 * a token boundary of both regions' merges (so by fact 1 each side's tokens
 * and part histories are those of merging just its own side) and passes
 * cut_is_safe() (so by fact 2 the sides join without change).  When no
 * position in the overlap qualifies, the caller merges the whole piece.
 *
 * Any start of region k gives an exact result, but a cut is found only
 * where both merges agree.  Region k starts at a token boundary of region
 * k-1, so by fact 1 both merge the same text from that boundary on and
 * differ only near their ends.  Starting at a fixed offset instead could
 * cut a run of one letter out of phase with the tokens of region k-1, and
 * no boundary of the two would coincide.
 */
#define BPE_MIN_CHUNK 8192
#define BPE_MIN_MARGIN 128

/* One merged region: its token boundaries, token ids and merge log. */
typedef struct Region
{
	uint32_t	start;			/* offset of the region in the piece */
	uint32_t	len;
	uint32_t   *bounds;			/* token starts relative to start, then len */
	uint32_t   *ids;
	size_t		n_tokens;
	size_t		capacity;
	MergeLog	log;
} Region;

/* Makes room for the tokens of a region of len bytes. */
static void
region_reserve(BpeState *state, Region *region, uint32_t len)
{
	if (region->capacity < (size_t) len + 1)
	{
		region->capacity = (size_t) len + 1;
		region->bounds = state->allocator->realloc_fn(state->allocator->context, region->bounds,
													  region->capacity * sizeof(uint32_t));
		region->ids = state->allocator->realloc_fn(state->allocator->context, region->ids,
												   region->capacity * sizeof(uint32_t));
	}
}

/*
 * Makes region the merge of piece[start .. start + len), whose bytes equal
 * those of the merged region same.  Merging depends on the bytes only, so
 * the tokens and the merge log, both relative to the region start, are the
 * same.  In a long run of one character every region after the first
 * two usually has the bytes of the one before, so it is copied, not merged.
 */
static void
copy_region(BpeState *state, Region *region, const Region *same, uint32_t start, uint32_t len)
{
	region->start = start;
	region->len = len;
	region_reserve(state, region, len);
	region->n_tokens = same->n_tokens;
	memcpy(region->bounds, same->bounds, (same->n_tokens + 1) * sizeof(uint32_t));
	memcpy(region->ids, same->ids, same->n_tokens * sizeof(uint32_t));
	region->log.n = 0;
	if (same->log.n > 0)
	{
		log_reserve(state, &region->log, same->log.n);
		memcpy(region->log.left, same->log.left, same->log.n * sizeof(uint32_t));
		memcpy(region->log.end, same->log.end, same->log.n * sizeof(uint32_t));
		memcpy(region->log.rank, same->log.rank, same->log.n * sizeof(uint32_t));
		region->log.n = same->log.n;
	}
}

static int
merge_region(const BpeVocab *vocab, BpeState *state, const unsigned char *piece,
			 Region *region, uint32_t start, uint32_t len)
{
	uint32_t	i;
	int			result;

	region->start = start;
	region->len = len;
	region->log.n = 0;
	result = queue_merge(vocab, state, piece + start, len, &region->log);
	if (result != BPE_OK)
		return result;
	region_reserve(state, region, len);
	region->n_tokens = 0;
	for (i = 0; i < len; i = state->scratch[i])
	{
		region->bounds[region->n_tokens] = i;
		region->ids[region->n_tokens] = state->scratch[3 * (size_t) len + i];
		region->n_tokens++;
	}
	region->bounds[region->n_tokens] = len;
	return BPE_OK;
}

static void
region_free(BpeState *state, Region *region)
{
	if (state->allocator->free_fn == NULL)
		return;
	if (region->bounds != NULL)
	{
		state->allocator->free_fn(state->allocator->context, region->bounds);
		state->allocator->free_fn(state->allocator->context, region->ids);
	}
	if (region->log.left != NULL)
	{
		state->allocator->free_fn(state->allocator->context, region->log.left);
		state->allocator->free_fn(state->allocator->context, region->log.end);
		state->allocator->free_fn(state->allocator->context, region->log.rank);
	}
}

/* Piece offset of the last token of region that starts at or before piece offset p. */
static uint32_t
token_start_at_or_before(const Region *region, uint32_t p)
{
	size_t		lo = 0;
	size_t		hi = region->n_tokens;	/* bounds[0] = 0 <= target */
	uint32_t	target = p - region->start;

	while (lo < hi)
	{
		size_t		mid = (lo + hi + 1) / 2;

		if (region->bounds[mid] <= target)
			lo = mid;
		else
			hi = mid - 1;
	}
	return region->start + region->bounds[lo];
}

/* Index of the token of region that starts at piece offset p, or -1. */
static long
token_starting_at(const Region *region, uint32_t p)
{
	size_t		lo = 0;
	size_t		hi = region->n_tokens + 1;
	uint32_t	target = p - region->start;

	while (lo < hi)
	{
		size_t		mid = (lo + hi) / 2;

		if (region->bounds[mid] < target)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo <= region->n_tokens && region->bounds[lo] == target) ? (long) lo : -1;
}

#define MAX_VERSIONS 64

/*
 * Versions of the part that ends at piece offset p in the left region
 * (ending = true) or starts at p in the right region: their lengths and the
 * rank of the merge that made each (0 for the initial single byte).
 * Returns the number of versions, or -1 when there are more than
 * MAX_VERSIONS.
 */
static int
part_versions(const Region *region, uint32_t p, bool ending, uint32_t *len, uint32_t *level)
{
	uint32_t	at = p - region->start;
	int			n = 1;
	size_t		m;

	len[0] = 1;
	level[0] = 0;
	for (m = 0; m < region->log.n; m++)
	{
		if (ending ? region->log.end[m] == at : region->log.left[m] == at)
		{
			if (n == MAX_VERSIONS)
				return -1;
			len[n] = ending ? at - region->log.left[m] : region->log.end[m] - at;
			level[n] = region->log.rank[m];
			n++;
		}
	}
	return n;
}

/* True when no merge of the joined text crosses the cut p (fact 2 above). */
static bool
cut_is_safe(const BpeVocab *vocab, const unsigned char *piece,
			const Region *left, const Region *right, uint32_t p)
{
	uint32_t	len_l[MAX_VERSIONS];
	uint32_t	level_l[MAX_VERSIONS];
	uint32_t	len_r[MAX_VERSIONS];
	uint32_t	level_r[MAX_VERSIONS];
	int			n_l = part_versions(left, p, true, len_l, level_l);
	int			n_r = part_versions(right, p, false, len_r, level_r);
	int			i;
	int			j;

	if (n_l < 0 || n_r < 0)
		return false;
	for (i = 0; i < n_l; i++)
	{
		uint32_t	end_i = i + 1 < n_l ? level_l[i + 1] : BPE_NO_RANK;

		for (j = 0; j < n_r; j++)
		{
			uint32_t	end_j = j + 1 < n_r ? level_r[j + 1] : BPE_NO_RANK;
			uint32_t	born = level_l[i] > level_r[j] ? level_l[i] : level_r[j];
			uint32_t	c;

			if (born > (end_i < end_j ? end_i : end_j))
				continue;		/* the two versions never coexist */
			if (len_l[i] + len_r[j] > vocab->max_token_len)
				break;			/* later versions of the right part are longer still */
			c = bpe_rank(vocab, piece + p - len_l[i], len_l[i] + len_r[j]);
			if (c != BPE_NO_RANK && c < end_i && c <= end_j)
				return false;
		}
	}
	return true;
}

/*
 * Merges a long piece region by region; see the comment above BPE_MIN_CHUNK.
 * Returns BPE_NOT_MONOTONE, with nothing emitted, when the caller must
 * merge the whole piece instead.
 */
static int
encode_piece_regions(const BpeVocab *vocab, BpeState *state,
					 const unsigned char *piece, size_t len)
{
	Region		regions[2];
	Region	   *left = &regions[0];
	Region	   *right = &regions[1];
	size_t		emitted_before = state->count;
	uint32_t	n = (uint32_t) len;
	uint32_t	cut = 0;		/* where the left region's kept tokens start */
	uint32_t	margin = BPE_MIN_MARGIN;
	uint32_t	chunk;
	uint32_t	center;
	uint32_t	run = 1;
	uint32_t	i;
	int			result;

	/*
	 * Tokens longer than BPE_MIN_MARGIN bytes are runs of one character in
	 * practice (claude_legacy has runs of up to 1,024 spaces), so a piece
	 * with such a run gets margins of the longest token.  Otherwise a narrow
	 * margin keeps regions small; if it ever finds no cut, the caller merges
	 * the whole piece, which is slower but just as exact.
	 */
	for (i = 1; i < n && run < BPE_MIN_MARGIN; i++)
		run = (piece[i] == piece[i - 1]) ? run + 1 : 1;
	if (run >= BPE_MIN_MARGIN && vocab->max_token_len > margin)
		margin = vocab->max_token_len;
	chunk = 16 * margin > BPE_MIN_CHUNK ? 16 * margin : BPE_MIN_CHUNK;
	if (len < 3 * (size_t) chunk)
		return BPE_NOT_MONOTONE;
	memset(regions, 0, sizeof(regions));
	center = chunk;
	result = merge_region(vocab, state, piece, left, 0, center + margin);
	while (result == BPE_OK)
	{
		uint32_t	right_start = token_start_at_or_before(left, center - margin);
		uint32_t	next_center = center + chunk;
		uint32_t	right_end;
		uint32_t	chosen = 0;
		uint32_t	d;
		long		t;

		if (next_center + chunk / 2 >= n)
			right_end = n;
		else
			right_end = next_center + margin;
		if (right_end - right_start == left->len &&
			memcmp(piece + right_start, piece + left->start, left->len) == 0)
			copy_region(state, right, left, right_start, left->len);
		else
		{
			result = merge_region(vocab, state, piece, right, right_start, right_end - right_start);
			if (result != BPE_OK)
				break;
		}

		/* candidate cuts from the middle of the overlap outward */
		for (d = 0; d < 2 * margin && chosen == 0; d++)
		{
			uint32_t	p = (d % 2 == 0) ? center + d / 2 : center - (d + 1) / 2;

			if (p <= right_start || p >= left->start + left->len || p <= cut)
				continue;
			if (token_starting_at(left, p) >= 0 && token_starting_at(right, p) >= 0 &&
				cut_is_safe(vocab, piece, left, right, p))
				chosen = p;
		}
		if (chosen == 0)
		{
			result = BPE_NOT_MONOTONE;
			break;
		}

		/* emit the left region's tokens in [cut, chosen) */
		for (t = token_starting_at(left, cut); left->start + left->bounds[t] < chosen; t++)
			bpe_emit(state, left->ids[t]);
		cut = chosen;

		{
			Region	   *swap = left;

			left = right;
			right = swap;
		}
		if (right_end == n)
		{
			for (t = token_starting_at(left, cut); (size_t) t < left->n_tokens; t++)
				bpe_emit(state, left->ids[t]);
			break;
		}
		center = next_center;
		if (state->allocator->check_interrupts != NULL)
			state->allocator->check_interrupts();
	}

	region_free(state, &regions[0]);
	region_free(state, &regions[1]);
	if (result != BPE_OK)
		state->count = emitted_before;
	return result;
}

int
bpe_encode_piece(const BpeVocab *vocab, BpeState *state,
				 const unsigned char *piece, size_t len)
{
	int			result;

	uint32_t	id;

	if (len == 0)
		return BPE_OK;
	id = bpe_rank(vocab, piece, len);
	if (id != BPE_NO_RANK)
	{
		bpe_emit(state, id);
		return BPE_OK;
	}
	if (state->merge_mode == BPE_MERGE_SCAN ||
		(state->merge_mode == BPE_MERGE_AUTO && len <= BPE_SHORT_PIECE))
	{
		bpe_encode_piece_scan(vocab, state, piece, len);
		return BPE_OK;
	}
	if (state->merge_mode == BPE_MERGE_HEAP)
		return bpe_encode_piece_heap(vocab, state, piece, len);
	if (len > state->max_piece_len || len >= UINT32_MAX / 2)
		return BPE_PIECE_TOO_LONG;
	result = BPE_NOT_MONOTONE;
	if (state->merge_mode == BPE_MERGE_AUTO && len >= 3 * BPE_MIN_CHUNK)
		result = encode_piece_regions(vocab, state, piece, len);
	if (result == BPE_NOT_MONOTONE)
		result = bpe_encode_piece_queue(vocab, state, piece, len);
	if (result == BPE_NOT_MONOTONE)
		result = bpe_encode_piece_heap(vocab, state, piece, len);
	return result;
}
