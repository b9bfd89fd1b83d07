/*
 * testrand.h: the unit tests' pseudo-random numbers (xorshift64*), seeded
 * by the test: the same numbers every run, on every machine.
 */
#ifndef TESTRAND_H
#define TESTRAND_H

#include <stdint.h>

/* The next number of the sequence in *s (s must not be 0). */
static inline uint64_t
test_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, 1). */
static inline double
test_unif(uint64_t *s)
{
	return (test_rand(s) >> 11) * (1.0 / 9007199254740992.0);
}

#endif
