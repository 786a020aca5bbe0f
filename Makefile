# claudecost: PGXS build.  `make && make install`, then `make installcheck`.
EXTENSION = claudecost
MODULE_big = claudecost

SRCS = $(sort $(wildcard src/*.c))
OBJS = $(SRCS:.c=.o)

# Generated from data/vocab/ by tools/gen_vocab (rules at the end).
VOCAB_SRCS = src/vocab_cl100k_base.c src/vocab_o200k_base.c src/vocab_claude_legacy.c
SRCS := $(sort $(SRCS) $(VOCAB_SRCS))
EXTRA_CLEAN = $(VOCAB_SRCS) tools/gen_vocab

# The install script of the current version is assembled from the ordered
# fragments in schema/, so each feature keeps its SQL next to its concept.
# The assembled file is committed as well, so it can be read without
# building.  Released scripts (claudecost--1.0.sql) are frozen; every later
# change to schema/ also goes into the upgrade script of the current version,
# and tools/test-suites.d/upgrade checks that both paths give one catalog.
EXTVERSION = 1.1
SCHEMA_PARTS = $(sort $(wildcard schema/*.sql))
DATA = claudecost--1.0.sql claudecost--1.0--1.1.sql claudecost--$(EXTVERSION).sql

# Every sql/*.sql file is a regression test; each one recreates the
# extension, so they run in any order.
REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=plpgsql

# Every specs/*.spec file is an isolation test (several sessions at once).
ISOLATION = $(sort $(basename $(notdir $(wildcard specs/*.spec))))
ISOLATION_OPTS = --inputdir=.

PG_CONFIG ?= pg_config
PKG_CONFIG ?= pkg-config

PCRE2_CFLAGS := $(shell $(PKG_CONFIG) --cflags libpcre2-8)
PCRE2_LIBS := $(shell $(PKG_CONFIG) --libs libpcre2-8)
CJSON_CFLAGS := $(shell $(PKG_CONFIG) --cflags libcjson)
CJSON_LIBS := $(shell $(PKG_CONFIG) --libs libcjson)

PG_CPPFLAGS = -Isrc $(PCRE2_CFLAGS) $(CJSON_CFLAGS)
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
SHLIB_LINK = $(PCRE2_LIBS) $(CJSON_LIBS)


PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

claudecost--$(EXTVERSION).sql: $(SCHEMA_PARTS)
	cat $(SCHEMA_PARTS) > $@.tmp && mv $@.tmp $@

all: claudecost--$(EXTVERSION).sql

# PGXS tracks no header dependencies: rebuild every object when a header
# changes, so no object keeps a stale structure layout.
$(filter-out $(VOCAB_SRCS:.c=.o),$(OBJS)): $(wildcard src/*.h)

# Tokenizer vocabularies: tools/gen_vocab turns each data/vocab/*.tiktoken
# file into read-only C tables (token bytes, offsets, hash slots) that are
# compiled into the library, so no backend parses or hashes a vocabulary.

tools/gen_vocab: tools/gen_vocab.c src/bpe.h
	$(CC) -O2 -Wall -Wextra -Werror -Isrc -o $@ tools/gen_vocab.c

src/vocab_cl100k_base.c: data/vocab/cl100k_base.tiktoken tools/gen_vocab
	tools/gen_vocab cl100k_base $< $@ '100257=<|endoftext|>' '100258=<|fim_prefix|>' \
		'100259=<|fim_middle|>' '100260=<|fim_suffix|>' '100276=<|endofprompt|>'

src/vocab_o200k_base.c: data/vocab/o200k_base.tiktoken tools/gen_vocab
	tools/gen_vocab o200k_base $< $@ '199999=<|endoftext|>' '200018=<|endofprompt|>'

src/vocab_claude_legacy.c: data/vocab/claude_legacy.tiktoken tools/gen_vocab
	tools/gen_vocab claude_legacy $< $@ '0=<EOT>' '1=<META>' '2=<META_START>' \
		'3=<META_END>' '4=<SOS>'

# PGXS tracks no header dependencies; rebuild the tokenizer objects when the
# structures they share change.
TOKENIZER_HEADERS = src/bpe.h src/tokenizer.h src/tokenizer_core.h src/tokenizer_nfkc.h
src/bpe.o src/tokenizer.o src/tokenizer_core.o src/tokenizer_nfkc.o $(VOCAB_SRCS:.c=.o): $(TOKENIZER_HEADERS)
