// A planted fault for the room check: an include that does not name its room.
#include "applier.h"
