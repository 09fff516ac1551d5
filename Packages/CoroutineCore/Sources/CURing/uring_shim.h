// liburing, Debian's liburing-dev: the rings of file I/O from coroutines (IO/Uring).
#include <liburing.h>
