/* quantmcu report MODEL --plan PLAN -o report.html [--images DIR [--limit N] [--skip N] [--threads N]]
 *                 [--sample IMAGE] [--sram SIZE] [--mcu --board B] [--frontier FILE.jsonl] [--input-range LO,HI] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_report(int argc, char **argv)
{
    const char *model_path = NULL, *plan_path = NULL, *out = NULL, *input_range = NULL, *v;
    double lo, hi;
    quantmcu_report_options ro;
    quantmcu_model *m = NULL;
    quantmcu_plan *p = NULL, *p8 = NULL;
    qmcu_error err;
    long n;
    int i, mcu = 0, rc = 1;
    if (cli_help_asked("report", argc, argv)) return 0;
    quantmcu_report_options_default(&ro);
    ro.mcu_board = "f746";
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--plan")) {
            if (!(plan_path = cli_value(argc, argv, &i))) return cli_usage("report: --plan needs a plan file");
        } else if (!strcmp(a, "-o")) {
            if (!(out = cli_value(argc, argv, &i))) return cli_usage("report: -o needs an HTML file");
        } else if (!strcmp(a, "--images")) {
            if (!(ro.images = cli_value(argc, argv, &i))) return cli_usage("report: --images needs a folder");
        } else if (!strcmp(a, "--sample")) {
            if (!(ro.sample_image = cli_value(argc, argv, &i))) return cli_usage("report: --sample needs an image");
        } else if (!strcmp(a, "--frontier")) {
            if (!(ro.frontier = cli_value(argc, argv, &i)))
                return cli_usage("report: --frontier needs a file of JSON lines");
        } else if (!strcmp(a, "--limit") || !strcmp(a, "--skip") || !strcmp(a, "--threads")) {
            if (!cli_parse_int(cli_value(argc, argv, &i), !strcmp(a, "--skip") ? 0 : 1, 1000000, &n))
                return cli_usage("report: %s needs a number", a);
            *(!strcmp(a, "--limit") ? &ro.limit : !strcmp(a, "--skip") ? &ro.skip : &ro.threads) = (int)n;
        } else if (!strcmp(a, "--sram")) {
            if (!cli_parse_size(cli_value(argc, argv, &i), &ro.sram_budget))
                return cli_usage("report: --sram needs a size such as 256K");
        } else if (!strcmp(a, "--input-range")) {
            if (!(input_range = cli_value(argc, argv, &i)) ||
                quantmcu_parse_input_range(input_range, &lo, &hi, &err) != QMCU_OK)
                return cli_usage("report: --input-range needs LO,HI, e.g. 0,1 or -1,1 or 0,255");
        } else if (!strcmp(a, "--mcu")) {
            mcu = 1;
        } else if (!strcmp(a, "--board")) {
            if (!(v = cli_value(argc, argv, &i)) || !quantmcu_board_known(v))
                return cli_usage("report: --board needs f746, h743 or big");
            ro.mcu_board = v;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage("report: unknown option '%s'", a);
        } else if (!model_path) {
            model_path = a;
        } else {
            return cli_usage("report: unexpected argument '%s'", a);
        }
    }
    if (!model_path || !plan_path || !out)
        return cli_usage("report: usage: quantmcu report MODEL --plan PLAN -o report.html [--images DIR] [--mcu]");
    if (!mcu) ro.mcu_board = NULL;
    if (!(m = cli_load(model_path, input_range))) return 1;
    if (quantmcu_plan_read(m, plan_path, QUANTMCU_MODE_AS_FILE, &p, &err) != QMCU_OK ||
        (!strcmp(quantmcu_plan_mode(p), "quantmcu") && quantmcu_plan_read(m, plan_path, QUANTMCU_MODE_PATCH, &p8, &err) != QMCU_OK)) {
        cli_fail("%s", err.msg);
        goto done;
    }
    ro.int8_plan = p8;
    if (quantmcu_report(m, p, &ro, out, &err) != QMCU_OK) {
        cli_fail("%s", err.msg);
        goto done;
    }
    printf("wrote %s\n", out);
    rc = 0;
done:
    quantmcu_plan_free(p8);
    quantmcu_plan_free(p);
    quantmcu_free(m);
    return rc;
}
