#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fputs("usage: quantmcu COMMAND ...   (quantmcu COMMAND --help: its options; quantmcu --version)\n"
          "  info  MODEL [--json] [--plan PLAN | --split K --grid RxC] [--input-in-sram yes|no]\n"
          "  run   MODEL IMAGE... [--mode layer|patch] [--plan PLAN | --split K --grid RxC] [--top K] [--labels FILE]\n"
          "        [--dump-input FILE] [--dump-output FILE]\n"
          "  eval  MODEL --images DIR [--limit N] [--mode layer|patch] [--plan PLAN | --split K --grid RxC] [--threads "
          "N] [--json]\n"
          "  plan  MODEL [--sram SIZE] [--input-in-sram yes|no] [--split K --grid RxC] [-o PLAN.json] [--json] "
          "[--quiet]\n"
          "        [--halo auto|recompute|cols|cached] [--fuse-add yes|no]\n"
          "        [--calib DIR [--calib-count N] [--bits 8,4,2] [--lambda L] [--outlier-tiles F] [--bitops-target R]\n"
          "         [--max-agreement-drop P]]\n"
          "  codegen MODEL --plan PLAN -o DIR [--target host|cortex-m4|cortex-m7] [--board f746|h743|big]\n"
          "  mcu   MODEL [--plan PLAN] [--mode layer|patch|quantmcu] [--target cortex-m4|cortex-m7] [--board "
          "f746|h743|big]\n"
          "        IMAGE... [--json] [--dump-output FILE] [--profile]\n"
          "  report MODEL --plan PLAN -o report.html [--images DIR [--limit N]] [--mcu [--board B]] [--frontier F]\n",
          f);
}

int main(int argc, char **argv)
{
    signal(SIGXFSZ, SIG_IGN); /* past a file size limit, writes fail (and are reported) instead of killing us */
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("quantmcu %s\n", quantmcu_version());
        return 0;
    }
    if (!strcmp(argv[1], "info")) return cmd_info(argc - 2, argv + 2);
    if (!strcmp(argv[1], "run")) return cmd_run(argc - 2, argv + 2);
    if (!strcmp(argv[1], "eval")) return cmd_eval(argc - 2, argv + 2);
    if (!strcmp(argv[1], "plan")) return cmd_plan(argc - 2, argv + 2);
    if (!strcmp(argv[1], "codegen")) return cmd_codegen(argc - 2, argv + 2);
    if (!strcmp(argv[1], "mcu")) return cmd_mcu(argc - 2, argv + 2);
    if (!strcmp(argv[1], "report")) return cmd_report(argc - 2, argv + 2);
    cli_fail("unknown command '%s' (try quantmcu --help)", argv[1]);
    return 2;
}
