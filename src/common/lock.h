/* ferry: a mutex held until the end of the enclosing scope, whatever way
 * the scope is left (return, break, goto out of it):
 *
 *   ACQUIRE_LOCK_FOR_CURRENT_SCOPE (&sh->lock);
 *
 * The lock is released in reverse order of acquisition, like every other
 * cleanup attribute (common/cleanup.h). */
#ifndef FERRY_COMMON_LOCK_H
#define FERRY_COMMON_LOCK_H

#include <pthread.h>

static inline void
lock_release_at_scope_end (pthread_mutex_t **m)
{
  pthread_mutex_unlock (*m);
}

#define LOCK_SCOPE_JOIN_(a, b) a##b
#define LOCK_SCOPE_JOIN(a, b) LOCK_SCOPE_JOIN_ (a, b)
#define ACQUIRE_LOCK_FOR_CURRENT_SCOPE(mutex)                                  \
  __attribute__ ((cleanup (lock_release_at_scope_end)))                       \
  pthread_mutex_t *LOCK_SCOPE_JOIN (scope_lock_, __LINE__) = (mutex);          \
  pthread_mutex_lock (LOCK_SCOPE_JOIN (scope_lock_, __LINE__))

#endif
