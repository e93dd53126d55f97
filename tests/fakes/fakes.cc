// Anchor translation unit for the pailfs_fakes library.
#include "tests/fakes/fake_clock.h"
