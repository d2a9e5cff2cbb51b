/* Whole files in and out, for tests that damage a saved file byte by byte,
 * and the scratch folders tests leave behind. */
#ifndef RC_TEST_FILES_H
#define RC_TEST_FILES_H

#include <stddef.h>

/* The bytes of the file at path (malloc'd; the caller frees them); the
 * test fails when it cannot be read. */
unsigned char *slurp(const char *path, size_t *len);
/* Writes len bytes of b to path, replacing it; the test fails on error. */
void spit(const char *path, const unsigned char *b, size_t len);
/* Removes the folder dir and all it holds; 0 on success (system's status). */
int remove_tree(const char *dir);

#endif
