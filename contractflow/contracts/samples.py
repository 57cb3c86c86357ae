"""A complete, realistic draft for tests: a Shanghai trading company buys one year of
management for its OA (office automation) system from a Hangzhou provider.

Priced with the default price list it comes to 170,720.00 CNY (see the fee tests for the
arithmetic), paid quarterly. Other packages' tests reuse it; vary it with
`sample_terms(fees=...)` or `dataclasses.replace`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from contractflow.contracts.fee_terms import (
    AdhocWork,
    BackupFrequency,
    BackupPlan,
    BillingCycle,
    Complexity,
    Fees,
    TrainingKind,
    TrainingSession,
    TravelEstimate,
    UpgradeDifficulty,
    UpgradeOrder,
    UsageScale,
    WorkUrgency,
)
from contractflow.contracts.legal import (
    BreachLiability,
    Confidentiality,
    ConfidentialityDuty,
    ConfidentialScope,
    CostBearer,
    DisputeResolution,
    EndOfTermHandling,
    IPOwnership,
    Owner,
    RightsAndObligations,
)
from contractflow.contracts.licence import (
    DataHandling,
    DeviceType,
    Licence,
    LicenceRestriction,
    LicenceTerminationEvent,
    LicenceType,
)
from contractflow.contracts.money import Money
from contractflow.contracts.operations import (
    SecurityMeasure,
    SecurityMeasures,
    ServiceStandards,
    Severity,
    SeverityTarget,
)
from contractflow.contracts.parties import (
    Certification,
    ClientReference,
    Parties,
    Party,
    ProviderQualification,
    TechnicalTeam,
)
from contractflow.contracts.service import ServiceContent, ServiceItem, ServiceTerm
from contractflow.contracts.terms import ContractTerms

SAMPLE_START = date(2025, 1, 1)
SAMPLE_END = date(2025, 12, 31)
SAMPLE_TOTAL = Money(Decimal("170720.00"))
SAMPLE_USER_CREDIT_CODE = "91310115MA1H7XY23K"
SAMPLE_PROVIDER_CREDIT_CODE = "91330106MA2B3C4D5E"


def sample_parties() -> Parties:
    return Parties(
        user=Party(
            name="上海明德贸易有限公司",
            credit_code=SAMPLE_USER_CREDIT_CODE,
            address="上海市浦东新区张杨路500号18楼",
            legal_representative="王建国",
            contact_name="李敏 (IT 部经理)",
            contact_phone="+86 21 5888 1234",
            contact_email="it@mingde-trading.example.cn",
        ),
        provider=Party(
            name="杭州云维信息技术有限公司",
            credit_code=SAMPLE_PROVIDER_CREDIT_CODE,
            address="杭州市西湖区文三路90号东部软件园",
            legal_representative="陈思远",
            contact_name="赵磊 (客户经理)",
            contact_phone="+86 571 8777 5678",
            contact_email="service@yunwei-tech.example.cn",
        ),
        provider_qualification=ProviderQualification(
            business_licence_number=SAMPLE_PROVIDER_CREDIT_CODE,
            business_licence_valid_until=date(2040, 6, 30),
            certifications=(
                Certification("ISO/IEC 27001", "CN-ISMS-2023-0815", date(2027, 3, 31)),
                Certification("ISO 9001", "CN-QMS-2022-4410", date(2026, 12, 31)),
                Certification("CMMI Level 3", "CMMI-65432", date(2026, 9, 30)),
            ),
            references=(
                ClientReference("苏州华茂纺织集团", "OA 与公文系统运维", 2023, "周经理"),
                ClientReference("宁波港联物流有限公司", "协同办公平台托管与升级", 2024),
            ),
            technical_team=TechnicalTeam(
                size=45,
                skills=("Java", "PostgreSQL", "Linux", "网络安全", "OA 实施"),
                average_tenure_years=4,
            ),
        ),
    )


def sample_service_content() -> ServiceContent:
    return ServiceContent(
        items=(
            ServiceItem.MAINTENANCE_INSPECTION,
            ServiceItem.MAINTENANCE_FAULT_REPAIR,
            ServiceItem.MAINTENANCE_VULNERABILITY_FIX,
            ServiceItem.UPDATES_FEATURES,
            ServiceItem.UPDATES_VERSIONS,
            ServiceItem.UPDATES_COMPATIBILITY,
            ServiceItem.SUPPORT_PHONE,
            ServiceItem.SUPPORT_ONLINE,
            ServiceItem.SUPPORT_ON_SITE,
            ServiceItem.DATA_BACKUP,
            ServiceItem.DATA_RECOVERY,
            ServiceItem.DATA_SECURITY,
            ServiceItem.TRAINING_NEW_USERS,
            ServiceItem.TRAINING_NEW_FEATURES,
        ),
        functional_modules=("流程审批", "公文管理", "考勤管理", "会议室预订", "知识库"),
        notes="覆盖总部及两个分公司的 OA 系统; 现场支持限上海市内",
    )


def sample_fees() -> Fees:
    return Fees(
        billing_cycle=BillingCycle.QUARTERLY,
        payment_method="银行转账, 收到增值税专用发票后 15 日内支付",
        system_complexity=Complexity.MEDIUM,
        upgrades=(UpgradeOrder("电子签章集成", UpgradeDifficulty.MODERATE, 1, date(2025, 6, 1)),),
        backup=BackupPlan(Decimal("200"), BackupFrequency.WEEKLY),
        usage=UsageScale(named_users=150, concurrent_users=60),
        adhoc_work=(AdhocWork("节假日紧急故障处理 (预估)", Decimal("16"), WorkUrgency.EMERGENCY),),
        training=(
            TrainingSession(TrainingKind.NEW_USERS, 30, date(2025, 1, 15)),
            TrainingSession(TrainingKind.NEW_FEATURES, 20, date(2025, 7, 15)),
        ),
        travel=TravelEstimate(visits=4),
    )


def sample_licence() -> Licence:
    return Licence(
        software_id="mingde-oa-v5",
        software_name="明德 OA 协同办公系统 V5",
        type=LicenceType.NON_EXCLUSIVE,
        territory=("CN",),
        user_count=150,
        device_types=(DeviceType.DESKTOP, DeviceType.MOBILE),
        start_date=SAMPLE_START,
        end_date=SAMPLE_END,
        extension_procedure="期满前 30 日书面申请, 双方签订续期协议",
        restrictions=(LicenceRestriction.NO_SECONDARY_DEVELOPMENT, LicenceRestriction.NO_TRANSFER),
        termination_events=(LicenceTerminationEvent.EXPIRY, LicenceTerminationEvent.BREACH),
        data_handling_on_termination=DataHandling.EXPORT_THEN_DESTROY,
    )


def sample_terms(**clauses: Any) -> ContractTerms:
    """The complete sample draft; keyword arguments replace whole clauses."""
    terms = ContractTerms(
        title="明德 OA 系统管理服务合同 (OA system management service contract)",
        parties=sample_parties(),
        service_content=sample_service_content(),
        service_term=ServiceTerm(SAMPLE_START, SAMPLE_END, True, 30, "双方无异议则自动续期一年"),
        fees=sample_fees(),
        rights_and_obligations=RightsAndObligations(
            user_rights=("要求乙方按合同约定的服务标准提供服务", "查阅维护记录和服务报告"),
            user_obligations=("按期支付服务费", "提供必要的系统访问权限和现场工作条件"),
            provider_rights=("按期收取服务费", "在约定窗口内进行计划内维护"),
            provider_obligations=("保证软件安全、稳定运行", "每月提交维护报告"),
        ),
        breach_liability=BreachLiability(
            user_liabilities=("逾期付款的, 按日万分之五支付违约金",),
            provider_liabilities=(
                "未达到响应或解决时限的, 每次按当期服务费的 5% 扣减",
                "可用性低于目标值的, 按差额比例退还当期服务费",
            ),
            termination_compensation="因一方原因解除合同的, 由该方赔偿对方由此造成的直接损失",
            liability_cap=Money(Decimal("170720.00")),
        ),
        confidentiality=Confidentiality(
            scope=tuple(ConfidentialScope),
            duties=tuple(ConfidentialityDuty),
            years_after_end=3,
            handling_at_end=EndOfTermHandling.RETURN,
            liabilities=("赔偿损失", "承担法律责任", "甲方有权解除合同"),
        ),
        service_standards=ServiceStandards(
            severity_targets=(
                SeverityTarget(Severity.CRITICAL, 15, 4),
                SeverityTarget(Severity.HIGH, 30, 8),
                SeverityTarget(Severity.MEDIUM, 120, 24),
                SeverityTarget(Severity.LOW, 480, 72),
            ),
            availability_target_percent=Decimal("99.9"),
            quality_standards="故障修复率不低于 98%, 每半年进行一次服务评估",
        ),
        security_measures=SecurityMeasures(measures=tuple(SecurityMeasure)),
        licence=sample_licence(),
        ip_ownership=IPOwnership(
            software=Owner.PROVIDER,
            customisations=Owner.USER,
            user_data=Owner.USER,
            notes="为甲方定制开发的流程与报表归甲方所有",
        ),
        dispute_resolution=DisputeResolution(
            negotiation_days=30,
            arbitration_institution="上海国际经济贸易仲裁委员会 (上海国际仲裁中心)",
            arbitration_rules="该会届时有效的仲裁规则",
            court="上海市浦东新区人民法院",
            governing_law="中华人民共和国法律",
            cost_bearer=CostBearer.LOSING_PARTY,
        ),
    )
    return replace(terms, **clauses)
