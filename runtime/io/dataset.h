/* Labelled image sets for training and evaluation, held in memory as float tensors scaled to
 * 0..1 (pixel / 255: no mean, no std), which is what `cnnvis train` feeds its models.
 *
 * A data set is a folder in one of two layouts:
 * - IDX (MNIST, Fashion-MNIST): train-images-idx3-ubyte and train-labels-idx1-ubyte for
 *   training, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte for testing, each maybe .gz.
 * - Images (PNG, JPEG, BMP) in one subfolder per class; class names are the subfolder names,
 *   sorted (byte order), numbered from 0. With subfolders train/ and test/ (each holding the
 *   same class subfolders) those are the splits; otherwise every 10th image of each class, in
 *   file-name order, is held out as the test split. Images are converted to the model's
 *   channels (gray or RGB) and resized (bilinear) to its input size. */
#ifndef CNV_IO_DATASET_H
#define CNV_IO_DATASET_H

#include "cnnvis/cnnvis.h"

typedef enum cnv_split { CNV_SPLIT_TRAIN, CNV_SPLIT_TEST } cnv_split;

typedef struct cnv_dataset {
    int n;              /* number of images */
    int c, h, w;        /* each image: c x h x w floats, NCHW */
    float *images;      /* n * c * h * w values in 0..1 */
    int *labels;        /* n class indices */
    int n_classes;      /* 1 + the largest label (IDX) or the number of class folders */
    char **class_names; /* n_classes names for image folders; NULL for IDX */
} cnv_dataset;

/* Loads one split of the data set in `dir` for a model taking c x h x w inputs, keeping at most
 * `limit` images (limit <= 0: all; IDX: the first ones; folders: taken from each class in turn,
 * so a small limit still covers every class). Errors name the folder or file: CNV_ERR_IO (no
 * such folder, unreadable file), CNV_ERR_FORMAT (neither layout, malformed file, empty split),
 * CNV_ERR_SHAPE (IDX images of another size than the model's input). */
cnv_status cnv_dataset_load(const char *dir, cnv_split split, int c, int h, int w, int limit, cnv_dataset *out);
void cnv_dataset_free(cnv_dataset *d);

/* Size of one image in floats. */
size_t cnv_dataset_image_numel(const cnv_dataset *d);

#endif
