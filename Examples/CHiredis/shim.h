// hiredis's blocking client API, for Swift.
#include <hiredis/hiredis.h>
