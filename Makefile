# claudecost: PGXS build.  `make && make install`, then `make installcheck`.
EXTENSION = claudecost
MODULE_big = claudecost

SRCS = $(sort $(wildcard src/*.c))
OBJS = $(SRCS:.c=.o)

# The install script is assembled from the ordered fragments in schema/, so
# each feature keeps its SQL next to its concept.  The assembled file is
# committed as well, so the shipped 1.0 script can be read without building.
SCHEMA_PARTS = $(sort $(wildcard schema/*.sql))
DATA = claudecost--1.0.sql

# Every sql/*.sql file is a regression test; each one recreates the
# extension, so they run in any order.
REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=plpgsql

# Every specs/*.spec file is an isolation test (concurrent sessions).
ISOLATION = $(sort $(basename $(notdir $(wildcard specs/*.spec))))
ISOLATION_OPTS = --load-extension=plpgsql

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

claudecost--1.0.sql: $(SCHEMA_PARTS)
	cat $(SCHEMA_PARTS) > $@.tmp && mv $@.tmp $@

all: claudecost--1.0.sql
