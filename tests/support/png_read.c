#include "png_read.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

unsigned char *png_read(const char *path, png_uint_32 format, png_uint_32 *w, png_uint_32 *h)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path))
        fail_msg("%s: not a PNG: %s", path, img.message);
    img.format = format;
    unsigned char *px = malloc(PNG_IMAGE_SIZE(img));
    assert_non_null(px);
    if (!png_image_finish_read(&img, NULL, px, 0, NULL))
        fail_msg("%s: cannot decode: %s", path, img.message);
    *w = img.width;
    *h = img.height;
    return px;
}
