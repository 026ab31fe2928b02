#ifndef PHA_SHMEM_H
#define PHA_SHMEM_H
extern void pha_shmem_init(void);
#endif
