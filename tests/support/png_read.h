/* Decoding the PNGs the plot, graph and demo tests check pixel by pixel. */
#ifndef RC_TEST_PNG_READ_H
#define RC_TEST_PNG_READ_H

#include <png.h>

/* The pixels of the PNG at path in libpng's `format` (PNG_FORMAT_GRAY,
 * _RGB, _RGBA...), rows top to bottom, malloc'd (the caller frees them);
 * *w and *h get its size.  The test fails, naming the file and libpng's
 * message, when it is not a PNG or does not decode. */
unsigned char *png_read(const char *path, png_uint_32 format, png_uint_32 *w, png_uint_32 *h);

#endif
