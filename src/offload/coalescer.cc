#include "offload/coalescer.h"
