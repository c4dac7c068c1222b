#include "render_setup.h"

#include "core/status.h"
#include "vis/synth.h"

cnv_status cnv_recipe_resolve(const char *name, cnv_recipe *out) {
    const cnv_recipe *base = cnv_recipe_find(name);
    if (!base) base = cnv_synth_recipe(name);
    if (!base) {
        char list[128];
        cnv_recipe_list_all(list, sizeof list);
        return cnv_fail(CNV_ERR_ARG, "no recipe '%s' (recipes: %s)", name, list);
    }
    *out = *base;
    out->prior_components = 64;
    out->prior_weight = 0.2f;
    return CNV_OK;
}

void cnv_recipe_list_all(char *buf, size_t size) {
    cnv_recipe_list(buf, size);
    cnv_synth_recipe_list(buf, size);
}
