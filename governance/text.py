"""Every user-facing string, in one place, keyed so a translation can follow.

`t("key", name=value)` returns the string in the active language. Chinese is
the default; an English table can be added under "en" key by key, and missing
keys fall back to Chinese rather than showing a key to a user.
"""

from __future__ import annotations

import os

DEFAULT_LANGUAGE = "zh"

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        # App frame
        "app.title": "社区治理指标看板",
        "app.caption": "依据政策文本核算社区设施、经费、平安与队伍指标",
        "nav.section.dashboards": "看板",
        "nav.section.data": "数据",
        "nav.overview": "总览",
        "nav.data": "数据管理",
        "sample.banner": "示例数据：当前显示的是系统自带的示例区数据（{tables}），并非真实统计。请在“数据管理”页导入本区数据替换。",
        "sample.loaded": "首次启动：已载入示例区数据（示例数据）。",
        "error.generic": "出现错误，操作未完成。详细信息已写入服务器日志（编号 {ref}）。",
        "error.db_locked": "数据库文件 {path} 正被另一个程序占用（例如正在运行的看板）。请关闭后重试。",
        # Sidebar filters
        "filter.header": "筛选",
        "filter.streets": "街道（乡镇）",
        "filter.streets.help": "不选则显示全部街道；筛选在各页面之间保持。",
        "filter.types": "社区类型",
        "filter.types.help": "不选则显示全部类型。",
        "filter.year": "经费年度",
        "filter.year.help": "经费类指标（M01–M05）按自然年统计，默认最近一年。",
        "filter.months": "平安统计月份",
        "filter.months.help": "平安类指标按月份区间统计，默认最近 12 个月。",
        "filter.no_data": "暂无数据",
        # Statuses and dimensions
        "status.met": "达标",
        "status.partly_met": "基本达标",
        "status.not_met": "未达标",
        "status.no_data": "无数据",
        "status.not_rated": "无标准",
        "dimension.facilities": "设施",
        "dimension.funding": "经费",
        "dimension.safety": "平安",
        "dimension.organisation": "队伍",
        "direction.at_least": "不低于",
        "direction.below": "低于",
        "direction.at_most": "不高于",
        "direction.none": "无统一标准，排名比较",
        # Overview page
        "overview.title": "总览",
        "overview.kpi.communities": "社区（村）数",
        "overview.kpi.households": "居民户数",
        "overview.kpi.population": "常住人口",
        "overview.kpi.dimension": "{dimension}达标率",
        "overview.kpi.dimension.help": "该维度有标准的指标中，达标（含基本达标）的“社区×指标”占比；无数据不计入分母。共 {rated} 项，其中未达标 {not_met} 项。",
        "overview.matrix.title": "社区 × 指标 达标矩阵",
        "overview.matrix.caption": "颜色：绿=达标，黄=基本达标，红=未达标，灰=无数据/无标准。点击列头排序；将鼠标停在列头上可查看标准及政策出处。",
        "overview.ranking.title": "短板社区排名",
        "overview.ranking.caption": "按未达标指标数从多到少排列；同数时按达标率从低到高。",
        "overview.by_street.title": "各街道指标达标情况",
        "overview.column.community": "社区",
        "overview.column.street": "街道",
        "overview.column.type": "类型",
        "overview.column.not_met": "未达标项",
        "overview.column.met_share": "达标率(%)",
        "overview.column.status": "状态",
        "overview.column.count": "项数",
        "overview.empty": "当前筛选条件下没有社区。",
        "overview.period": "经费年度：{year}；平安统计：{month_from} 至 {month_to}",
        # Data page
        "data.title": "数据管理",
        "data.templates.title": "下载模板",
        "data.templates.caption": "模板列名为标准中文表头；CSV 带 BOM，可直接用 Excel 打开。",
        "data.templates.csv": "{table} 模板（CSV）",
        "data.templates.xlsx": "{table} 模板（Excel）",
        "data.upload.title": "上传并校验",
        "data.upload.label": "选择 CSV 或 Excel 文件（可多选）",
        "data.upload.help": "支持 UTF-8、带 BOM 的 UTF-8、GBK/GB18030 编码的 CSV，以及 .xlsx。",
        "data.upload.table": "“{file}” 导入到",
        "data.upload.detected": "根据表头识别为：{table}",
        "data.upload.undetected": "无法根据表头判断是哪张表，请手动选择。",
        "data.validate.ok": "校验通过：{rows} 行可导入。",
        "data.validate.failed": "校验未通过：共 {count} 处问题，未导入任何数据。",
        "data.validate.notes": "处理说明",
        "data.validate.errors": "问题清单",
        "data.preview": "预览（前 {n} 行，已换算为标准单位）",
        "data.apply": "导入",
        "data.apply.help": "校验通过后一次性写入；导入的内容替换：{replaces}",
        "data.apply.done": "已导入 {table}：{rows} 行（替换原有 {replaced} 行）。",
        "data.apply.unchanged": "{table}：与上次导入的文件完全相同，数据未作更改。",
        "data.progress": "正在读取 {file}：已处理 {rows} 行",
        "data.history.title": "导入记录",
        "data.history.empty": "尚无导入记录。",
        "replaces.table": "整张表",
        "replaces.years": "文件中出现的年度",
        "replaces.months": "文件中出现的月份",
        "column.file": "文件",
        "column.row": "行号",
        "column.column": "列",
        "column.value": "值",
        "column.reason": "原因",
        "history.import_id": "编号",
        "history.table_name": "数据表",
        "history.file_name": "文件名",
        "history.sha256": "SHA-256",
        "history.rows_in_file": "行数",
        "history.rows_replaced": "替换行数",
        "history.applied_at": "导入时间",
        "history.applied_by": "导入人",
        "history.is_sample": "示例数据",
        # Import: file-level problems
        "import.error.line": "文件 {file} 第 {row} 行「{column}」值“{value}”：{reason}",
        "import.error.file": "文件 {file}：{reason}",
        "import.decode_failed": "无法识别编码（既不是 UTF-8 也不是 GBK/GB18030），请在 Excel 中另存为“CSV UTF-8”后重试",
        "import.empty_file": "文件是空的",
        "import.unsupported_format": "不支持的文件类型“{suffix}”，请上传 .csv 或 .xlsx",
        "import.bad_xlsx": "无法读取 Excel 文件（文件可能已损坏或不是 .xlsx 格式）",
        "import.no_header": "在前 {lines} 行中找不到「{table}」的表头；至少需要这些列：{required}",
        "import.missing_columns": "缺少必填列：{columns}",
        "import.duplicate_header": "列「{column}」出现了不止一次",
        "import.unknown_table": "未知的数据表“{table}”，可选：{choices}",
        "import.too_many_errors": "另有 {count} 处问题未逐条列出",
        "import.orphans": "导入后，{table} 中仍有 {count} 行引用了不存在的社区编码（如 {examples}），这些行在统计中将被忽略",
        # Import: notes on understood messy forms
        "import.note.title_rows": "已跳过表头上方的 {count} 行（标题或说明）",
        "import.note.blank_rows": "已跳过 {count} 个空行",
        "import.note.total_rows": "已跳过合计行：第 {rows} 行",
        "import.note.unknown_columns": "已忽略无法识别的列：{columns}",
        "import.note.money_scaled": "「{column}」以万元填写，已换算为元（×10000）",
        "import.note.percent_fraction": "「{column}」的值都不大于 1，按小数解读（0.95 即 95%）",
        "import.note.sheet": "读取工作表“{sheet}”",
        "import.note.defaults": "「{column}」为空的 {count} 行按默认值“{value}”处理",
        # Import: cell-level reasons
        "reason.required": "必填，不能为空",
        "reason.not_integer": "不是整数",
        "reason.not_number": "不是数字",
        "reason.bad_thousands": "千位分隔符位置不对，无法确定数值",
        "reason.scientific_id": "编码被改写成了科学计数法，原编码已丢失；请把该列设为“文本”格式后重新导出",
        "reason.below_minimum": "不能小于 {minimum}",
        "reason.above_maximum": "不能大于 {maximum}",
        "reason.not_above": "不能大于同行的「{other}」（{other_value}）",
        "reason.not_before": "不能早于同行的「{other}」（{other_value}）",
        "reason.bad_enum": "不是可接受的取值；可填：{choices}",
        "reason.bad_date": "无法识别的日期；可写作 2023-05-01、2023/5/1 或 2023年5月1日",
        "reason.date_without_day": "只有年月，缺少日；请填写完整日期",
        "reason.bad_month": "无法识别的月份；可写作 2023-05、2023/5 或 2023年5月",
        "reason.bad_year": "无法识别的年份；请写四位年份，如 2024",
        "reason.bad_percent": "不是有效的百分比",
        "reason.ambiguous_percent": "本列其他值按百分数填写，{value} 含义不明（{value}% 还是 {scaled}%？），请写成带 % 的形式",
        "reason.bad_unit": "无法识别的单位“{unit}”",
        "reason.duplicate_key": "与第 {rows} 行重复（{key}）",
        "reason.unknown_community": "社区编码在社区基本信息中不存在",
        # CLI
        "cli.applied": "已导入 {table}：{rows} 行（替换原有 {replaced} 行），导入编号 {import_id}。",
        "cli.unchanged": "{table}：与上次导入的文件完全相同，数据未作更改。",
        "cli.valid": "校验通过：{file} 可导入 {table}，共 {rows} 行。",
        "cli.refused": "已拒绝：{file} 未导入，数据库未作任何更改。",
        "cli.file_not_found": "找不到文件：{path}",
        "cli.sample_written": "已生成示例数据：{out}（{communities} 个社区）",
        "cli.bad_month": "月份参数“{value}”格式不对，应为 YYYY-MM",
    },
}


def language() -> str:
    return os.environ.get("GOVERNANCE_LANG", DEFAULT_LANGUAGE)


def t(key: str, **values: object) -> str:
    table = STRINGS.get(language(), STRINGS[DEFAULT_LANGUAGE])
    template = table.get(key) or STRINGS[DEFAULT_LANGUAGE][key]
    return template.format(**values) if values else template
