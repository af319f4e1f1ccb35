/* `quantmcu COMMAND --help`: every option of the command, one line each, and an example. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define PLAN_OPTIONS                                                                                                   \
    "plan options:\n"                                                                                                  \
    "  --mode layer|patch|quantmcu    how to run: layer by layer (default), patch tiles, or QuantMCU (needs --plan)\n" \
    "  --plan PLAN.json               a plan made by 'quantmcu plan' (checked against the model)\n"                    \
    "  --split K                      patch stage = ops 0..K-1 (0 = layer by layer); with --grid\n"                    \
    "  --grid RxC                     tiles over the split tensor, e.g. 4x4 or 2x3; with --split\n"                    \
    "  --input-in-sram yes|no         count the input image in the peak SRAM (default yes; no = it streams)\n"         \
    "  --halo auto|recompute|cols|cached  tile overlap: recompute it (MCUNetV2), cache columns, cache columns and\n"   \
    "                                 rows; auto (default) picks per op within the budget\n"                           \
    "  --fuse-add yes|no              fuse a conv with the residual ADD after it, in place (default yes)\n"            \
    "  --no-vdpc                      QuantMCU ablation: low-bit maps on every tile, outliers saturate\n"              \
    "  --input-range LO,HI            map pixels 0..255 onto [LO,HI] (e.g. 0,1 or -1,1 or 0,255) instead of the\n"     \
    "                                 model's rule ('info' shows it: metadata, or p / p-128 for uint8 / int8)\n"

typedef struct {
    const char *name, *text;
} help_entry;

static const help_entry k_help[] = {
    {"info", "usage: quantmcu info MODEL [--json] [plan options]\n"
             "The model's ops, shapes, MACs and layer-by-layer memory; with a plan, its tiles, halo and memory.\n"
             "  --json                         machine-readable output\n" PLAN_OPTIONS
             "example: quantmcu info mobilenet_v2_1.0_224_quant.tflite --split 13 --grid 4x4\n"},
    {"run",
     "usage: quantmcu run MODEL (IMAGE... | --input FILE...) [--top K] [--labels FILE] [--dump-input FILE]\n"
     "                    [--dump-output FILE] [plan options]\n"
     "Runs images (JPEG, PNG, BMP) or raw inputs; prints the top classes, a class map's pixel histogram, or\n"
     "the range of each output.\n"
     "  --input FILE                   input tensor bytes: raw or NumPy .npy (once per model input, in order)\n"
     "  --top K                        classes to print (default 5)\n"
     "  --labels FILE                  one class name per line (default: class indices only)\n"
     "  --dump-input FILE              write the input bytes of the last sample (input k: FILE.k)\n"
     "  --dump-output FILE             write every output of the last sample: FILE, then FILE.1 ...;\n"
     "                                 .npy when FILE ends in .npy (out.npy, out.1.npy), else raw bytes\n" PLAN_OPTIONS
     "example: quantmcu run mobilenet_v2_1.0_224_quant.tflite cat.jpg --mode patch --split 13 --grid 4x4\n"
     "example: quantmcu run kws_ref_model.tflite --input mfcc.npy --dump-output scores.npy\n"},
    {"eval", "usage: quantmcu eval MODEL --images DIR [--limit N] [--skip N] [--threads N] [--json] [--vs-int8]\n"
             "                     [--strict] [--classes FILE] [--ground-truth FILE] [plan options]\n"
             "Top-1 / top-5 accuracy over a folder of labelled images, with MACs, BitOPs and peak SRAM.\n"
             "  --images DIR                   images named NNNN_<wnid>_*.JPEG, or class sub-folders (index or wnid);\n"
             "                                 raw inputs too: .npy / .bin files (any model), labelled the same way\n"
             "  --inputs DIR                   the same as --images (for folders of .npy / .bin inputs)\n"
             "  --limit N                      evaluate at most N images\n"
             "  --skip N                       skip the first N images (sorted), e.g. the calibration ones\n"
             "  --threads N                    worker threads (default 1)\n"
             "  --json                         one JSON object on stdout\n"
             "  --vs-int8                      QuantMCU: top-1 agreement and KL against the 8-bit run of each image\n"
             "  --strict                       stop at the first image that cannot be decoded (default: name, count,\n"
             "                                 skip it)\n"
             "  --classes FILE                 WordNet ids in class order (default: the shared sorted list)\n"
             "  --ground-truth FILE            lines 'FILE CLASS' (ILSVRC2012 validation style)\n" PLAN_OPTIONS
             "example: quantmcu eval mobilenet_v2_1.0_224_quant.tflite --images imagenet-dev --mode patch --split 13 "
             "--grid 4x4 --threads 2\n"},
    {"plan",
     "usage: quantmcu plan MODEL [--sram SIZE] [--input-in-sram yes|no] [--split K --grid RxC] [--halo H]\n"
     "                     [--fuse-add yes|no] [-o PLAN.json] [--json] [--quiet] [QuantMCU options]\n"
     "Searches split x grid x halo for the fewest predicted device instructions (cost model) within an SRAM\n"
     "budget (or builds the given geometry), prints its memory, MACs and predicted instructions, writes\n"
     "plan.json; with --calib also quantizes it (QuantMCU).\n"
     "  --sram SIZE                    SRAM budget, e.g. 64K, 320K, 1M (default 320K)\n"
     "  --input-in-sram yes|no         count the input image in the peak (default yes)\n"
     "  --split K --grid RxC           a fixed geometry instead of the search\n"
     "  --halo auto|recompute|cols|cached  tile overlap strategy (default auto: chosen per op)\n"
     "  --fuse-add yes|no              fuse conv + residual ADD in place (default yes)\n"
     "  --input-range LO,HI            calibration images: pixels 0..255 onto [LO,HI] instead of the model's rule\n"
     "  -o PLAN.json                   write the plan file\n"
     "  --json                         print the plan file instead of the summary\n"
     "  --quiet                        no per-op table\n"
     "QuantMCU options:\n"
     "  --calib DIR                    calibration images (turns QuantMCU on)\n"
     "  --calib-count N                images used from DIR (default 32)\n"
     "  --quant-scheme v3|v2|v1        v3 (default: v2 stored packed, buffers sized for the bits), v2, or the\n"
     "                                 paper's method as first defined\n"
     "  --proxy output|entropy         accuracy proxy: measured KL at the logits (v2 default) or entropy\n"
     "  --bits 8,6,5,4                 candidate widths, including 8\n"
     "  --lambda L                     VDQS trade-off accuracy vs BitOPs in [0, 1] (default 0.5)\n"
     "  --outlier-tiles F              target fraction of outlier tiles (VDPC; default 0.01 v3, 0.05 v2)\n"
     "  --bitops-target R              keep lowering widths until the patch-stage BitOPs ratio reaches R\n"
     "  --max-agreement-drop P         undo steps until top-1 agreement with 8-bit is >= 100 - P %\n"
     "  --patch-sram SIZE              v3: 4-bit maps until the patch stage's own peak fits SIZE too (e.g. 142K)\n"
     "  --max-kl K                     v3 accuracy guard: undo search steps while the mean KL vs int8 on the\n"
     "                                 calibration images exceeds K (default 0.03; 0: off)\n"
     "  --outlier-values yes|no        keep outlier values as extended codes (default yes)\n"
     "  --per-channel yes|no           per-channel low-bit ranges (default yes)\n"
     "  --clipping yes|no              MSE clipping of the ranges (default yes)\n"
     "example: quantmcu plan mobilenet_v2_1.0_224_quant.tflite --sram 256K --input-in-sram no -o plan.json\n"},
    {"codegen", "usage: quantmcu codegen MODEL --plan PLAN -o DIR [--target host|cortex-m4|cortex-m7] [--board B]\n"
                "Writes the model and plan as C (const weights, static arena) for the runtime library.\n"
                "  --plan PLAN.json               the plan to generate (patch or QuantMCU, as the file holds)\n"
                "  -o DIR                         output folder (files written whole or not at all)\n"
                "  --target host|cortex-m4|cortex-m7  what the code is compiled for (default cortex-m4)\n"
                "  --board f746|h743|big          refuse a plan whose arena does not fit the board's SRAM\n"
                "example: quantmcu codegen mobilenet_v1_0.25_128_quant.tflite --plan plan.json -o gen\n"},
    {"mcu", "usage: quantmcu mcu MODEL SAMPLE... [--target cortex-m4|cortex-m7] [--board f746|h743|big] [--json]\n"
            "                    [--dump-output FILE] [--profile] [plan options]\n"
            "Builds the firmware for the plan and runs it under QEMU: predictions, emulated instructions, arena.\n"
            "A SAMPLE is an image, or the input tensor as a .npy or raw .bin file (non-image models).\n"
            "  --target cortex-m4|cortex-m7   CPU (QEMU mps2-an386 / mps2-an500; default cortex-m4)\n"
            "  --board f746|h743|big          SRAM and flash of the board the plan must fit (default f746)\n"
            "  --json                         one JSON object on stdout\n"
            "  --dump-output FILE             write the outputs of the last sample (FILE, FILE.1, ... one per output)\n"
            "  --profile                      per-op instructions of the first image\n" PLAN_OPTIONS
            "example: quantmcu mcu mobilenet_v1_0.25_128_quant.tflite cat.jpg --plan plan.json --mode patch\n"
            "example: quantmcu mcu kws_ref_model.tflite mfcc.npy --dump-output scores.bin\n"},
    {"report",
     "usage: quantmcu report MODEL --plan PLAN -o report.html [--images DIR [--limit N] [--skip N] [--threads N]]\n"
     "                       [--sample IMAGE] [--sram SIZE] [--mcu [--board B]] [--frontier FILE.jsonl]\n"
     "One self-contained HTML page about a plan: summary, memory timeline, tile map, per-layer MACs and BitOPs.\n"
     "  --plan PLAN.json               the plan (patch or QuantMCU; a QuantMCU plan is also run at 8 bits)\n"
     "  -o report.html                 output file (written whole or not at all)\n"
     "  --images DIR                   evaluate accuracy on these images\n"
     "  --limit N                      at most N images (default 100)\n"
     "  --skip N                       leave out the first N (e.g. the calibration images)\n"
     "  --threads N                    evaluation threads (default 2)\n"
     "  --sample IMAGE                 the tile map's picture (default: the first evaluated image)\n"
     "  --sram SIZE                    draw and check this SRAM budget\n"
     "  --mcu                          per-op emulated Cortex-M4 instructions (QEMU) on the sample image\n"
     "  --board f746|h743|big          the board for --mcu (default f746)\n"
     "  --frontier FILE.jsonl          bench/quantmcu_frontier.sh output: accuracy vs BitOPs plot\n"
     "  --input-range LO,HI            pixels 0..255 onto [LO,HI] instead of the model's rule (see 'info')\n"
     "example: quantmcu report mobilenet_v2_1.0_224_quant.tflite --plan plan.json --images imagenet-dev -o "
     "report.html\n"},
};

int cli_help_asked(const char *cmd, int argc, char **argv)
{
    size_t k;
    int i;
    for (i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) break;
    if (i == argc) return 0;
    for (k = 0; k < sizeof k_help / sizeof k_help[0]; k++)
        if (!strcmp(k_help[k].name, cmd)) fputs(k_help[k].text, stdout);
    return 1;
}
