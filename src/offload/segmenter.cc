#include "offload/segmenter.h"
