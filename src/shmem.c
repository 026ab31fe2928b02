#include "postgres.h"
#include "shmem.h"
void pha_shmem_init(void) {}
