/* Host driver for a generated model module (quantmcu codegen --target host): reads the input
 * tensor bytes from argv[1], runs qmcu_model_run, writes the output bytes to argv[2]. */
#include <stdio.h>

#include "qmcu_model.h"

int main(int argc, char **argv)
{
    static unsigned char out[QMCU_MODEL_OUTPUT_BYTES];
    FILE *f;
    int st;
    if (argc != 3 || !(f = fopen(argv[1], "rb"))) return 2;
    if (fread(qmcu_model_input(), 1, QMCU_MODEL_INPUT_BYTES, f) != QMCU_MODEL_INPUT_BYTES) return 2;
    fclose(f);
    st = qmcu_model_run(qmcu_model_input(), out);
    if (!(f = fopen(argv[2], "wb")) || fwrite(out, 1, sizeof out, f) != sizeof out) return 2;
    fclose(f);
    return st;
}
