// libpq, PostgreSQL's C client library (Debian: libpq-dev). Headers live in /usr/include/postgresql.
#include <postgresql/libpq-fe.h>
