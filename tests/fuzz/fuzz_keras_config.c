/* The Keras model_config JSON (jansson, then the layer list). */
#include <stdlib.h>
#include <string.h>

#include "models/keras_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    keras_model m = {0};
    keras_config_parse("fuzz.h5", text, &m);
    keras_model_free(&m);
    free(text);
    return 0;
}
