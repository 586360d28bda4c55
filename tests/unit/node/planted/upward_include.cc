// A planted fault for the room check (tests/unit/node/CMakeLists.txt): as a
// file of node/src/apply/, this include points up, at the client port.
#include "apply/applier.h"
#include "service/ledger_service.h"
