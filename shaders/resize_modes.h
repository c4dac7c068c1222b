/* Resize's settings as numbers, shared by C and GLSL (like elementwise_ops.h): cnv_attrs holds
 * them (runtime/core/op.h), the ONNX importer and exporter map the attribute words to them in
 * this order (runtime/models/onnx_attrs.c), and shaders/resize.glsl receives them as
 * specialization constants. */
#ifndef CNV_RESIZE_MODES_H
#define CNV_RESIZE_MODES_H

/* mode */
#define CNV_RESIZE_NEAREST 0
#define CNV_RESIZE_LINEAR 1 /* bilinear on H, W */

/* coordinate_transformation_mode: the input coordinate x of output index o, scale s. */
#define CNV_COORD_HALF_PIXEL 0         /* (o + 0.5) / s - 0.5 */
#define CNV_COORD_PYTORCH_HALF_PIXEL 1 /* the same, 0 when the output has one element */
#define CNV_COORD_ALIGN_CORNERS 2      /* o * (in - 1) / (in * s - 1), 0 when out == 1 */
#define CNV_COORD_ASYMMETRIC 3         /* o / s */
#define CNV_COORD_TF_HALF_PIXEL_FOR_NN 4 /* (o + 0.5) / s */

/* nearest_mode: x to an index (then clamped into the input). */
#define CNV_NEAREST_ROUND_PREFER_FLOOR 0
#define CNV_NEAREST_ROUND_PREFER_CEIL 1
#define CNV_NEAREST_FLOOR 2
#define CNV_NEAREST_CEIL 3

#endif
