/* A tiny bitmap font (5x7 pixels per glyph, one pixel of spacing) for captions under grid tiles:
 * digits, upper- and lower-case letters (lower case drawn as upper case), and - _ . : # / % ( ) , + =
 * and space. Unknown characters draw as a hollow box. Every pixel is scaled by `scale`. */
#ifndef CNV_IO_FONT_H
#define CNV_IO_FONT_H

#include "cnnvis/picture.h"

enum { CNV_FONT_GLYPH_W = 5, CNV_FONT_GLYPH_H = 7, CNV_FONT_ADVANCE = 6 };

/* Width and height in pixels of `text` drawn at `scale` (>= 1). */
int cnv_font_text_width(const char *text, int scale);
int cnv_font_text_height(int scale);
/* True when the font has a glyph of its own for c (not the unknown-character box). */
int cnv_font_has_glyph(char c);

/* Draws text with its top-left corner at (x, y) in colour rgb (gray images take rgb[0]); pixels
 * falling outside the image are clipped. */
void cnv_font_draw(cnv_image *img, int x, int y, const char *text, int scale, const unsigned char rgb[3]);

/* Draws text in at most max_w pixels: characters that do not fit are dropped from the end. */
void cnv_font_draw_fit(cnv_image *img, int x, int y, const char *text, int scale, int max_w,
                       const unsigned char rgb[3]);

#endif
