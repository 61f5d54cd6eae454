from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.public.board import ExposureSource


class PublicExposure(BaseModel):
    """An item on the public exposure board (曝光台). Nothing else about the underlying case
    or record is published."""

    source: ExposureSource = Field(
        description="Where the item comes from: `case`, later also `accountability`."
    )
    id: int = Field(description="Id of the exposure within its source.")
    title: str
    summary: str
    category: str = Field(description="For cases, the case type code (`campus_intrusion` …).")
    category_label: str = Field(description="The category in the caller's language.")
    published_on: date = Field(description="Local (Asia/Shanghai) date of publication.")

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "source": "case",
                "id": 3,
                "title": "某小学门口持械滋扰学生案",
                "summary": "2026年11月,一男子在某小学门口持械滋扰学生,公安机关迅速侦破。",
                "category": "campus_intrusion",
                "category_label": "侵害校园",
                "published_on": "2026-12-02",
            }
        }
    )
