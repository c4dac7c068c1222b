/* The public CAM calls (attribution.h) over vis/gradcam.h's CAM head, one executor per call. */
#include "cnnvis/attribution.h"
#include "core/status.h"
#include "api/model.h"
#include "vis/class_vector.h"
#include "vis/gradcam.h"

/* The CAM head ending at the preset's logits layer, with that layer into *logits. */
static cnv_status find_head(const cnv_graph *g, int *logits, cnv_cam_head *head) {
    CNV_TRY(cnv_model_logits_layer(g, logits));
    return cnv_cam_head_find(g, *logits, head);
}

cnv_status cnv_cam_layer(const cnv_graph *g, int *layer) {
    int logits;
    cnv_cam_head head;
    CNV_TRY(find_head(g, &logits, &head));
    *layer = head.layer;
    return CNV_OK;
}

cnv_status cnv_cam_map(cnv_graph *g, cnv_backend *be, const float *input, int cls, float *cam) {
    int logits;
    cnv_cam_head head;
    CNV_TRY(find_head(g, &logits, &head));
    CNV_TRY(cnv_class_check(g, logits, &g->values[g->nodes[logits].out].shape, cls));
    cnv_exec *ex;
    CNV_TRY(cnv_exec_create(g, be, 1, &ex));
    cnv_status st = cnv_exec_set_input(ex, input);
    if (st == CNV_OK) st = cnv_cam(ex, &head, cls, cam);
    cnv_exec_free(ex);
    return st;
}
