// The system's SQLite (libsqlite3-dev), for the storage-engine tests.
#include <sqlite3.h>
