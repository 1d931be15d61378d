// Status/Result live in the public API (edgellm/status.h); the layers use them from here.
#pragma once
#include "edgellm/status.h"
