"""Procedural example stores: a small ``corner`` shop and a large ``grocery``.

:func:`generate_store` lays out a rectangular floor (origin at the front-left corner, the front
wall along y = 0 holding the gates), shelving fixtures built from standard 1.2 m bays, load-cell
plates on every shelf, a product assortment drawn from a built-in catalogue, and calibrated
ceiling cameras. The layout of each template is fixed; the seed picks the assortment, the plate
splits, the planogram, weights, prices and the cameras' small mounting and lens errors.

The catalogue deliberately holds look-alikes: the variants (flavours) of one product line weigh
almost the same, sit on neighbouring plates and sometimes share a plate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np

from walkout.domain.store import (
    Box,
    Camera,
    Component,
    Facing,
    Fixture,
    Gate,
    Plate,
    Product,
    Store,
)

Template = Literal["corner", "grocery"]
TEMPLATES: tuple[Template, ...] = ("corner", "grocery")

BAY_M = 1.2
"""Width of one shelving bay; a shelf's plates split a bay into 2, 3 or 4 (0.6, 0.4, 0.3 m)."""
REACH_M = 0.4
"""Depth of a plate's box, from the shelf's front edge inward."""
TOP_REACH_M = 0.4
"""Height of the top shelf's box above its surface."""
SHELF_GAP_M = 0.03
"""Space between a box's top and the shelf above."""
PLATE_GAP_M = 0.005
"""Half the gap between neighbouring plates' boxes along a shelf."""
PLATE_HZ = 60.0

GONDOLA_SHELVES = (0.15, 0.55, 0.95, 1.35)
TALL_SHELVES = (0.15, 0.5, 0.85, 1.2, 1.55)
BULK_SHELVES = (0.15, 0.7, 1.25)
COUNTER_SHELVES = (0.2, 0.55, 0.9)

SHARE_P = 0.04
"""Chance that two variants of one line share a plate."""
MIXED_P = 0.03
"""Chance that a plate also carries a product of clearly different weight."""
MIXED_RATIO = 1.6


# --- catalogue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Size:
    """A pack size: its label in the name, unit weight with packaging, list price in cents."""

    label: str
    weight_g: float
    price: int
    tag: str = ""


@dataclass(frozen=True)
class _Line:
    """A product line of one brand: each size comes in every variant (near-identical weights)."""

    name: str
    variants: tuple[str, ...]
    sizes: tuple[_Size, ...]


@dataclass(frozen=True)
class _Category:
    """A shelf category: every brand carries every line; ``sd_frac`` is the unit-weight spread
    as a fraction of the weight, ``variant_spread`` how much a line's variants differ."""

    key: str
    tags: tuple[str, ...]
    brands: tuple[str, ...]
    lines: tuple[_Line, ...]
    plates_per_bay: tuple[int, ...] = (2, 3)
    sd_frac: float = 0.01
    variant_spread: float = 0.003
    age_restricted: bool = False
    bulky: bool = False
    """Tall packs: a gondola carrying them has three shelves instead of four."""


def _line(name: str, variants: str, *sizes: _Size) -> _Line:
    """A line whose variants are given as one ``|``-separated string (empty: no variants)."""
    return _Line(name, tuple(variants.split("|")) if variants else ("",), sizes)


_CATALOGUE: tuple[_Category, ...] = (
    _Category(
        "sandwiches",
        ("fresh", "sandwich"),
        ("Walkout Kitchen", "Corner Deli", "Farmhouse"),
        (
            _line(
                "{v} Sandwich",
                "Turkey & Swiss|Ham & Cheddar|Chicken Caesar|BLT|Egg Salad|Tuna Melt|Caprese",
                _Size("", 235, 599),
            ),
            _line("{v} Baguette", "Italian Combo|Chicken Pesto|Brie & Apple", _Size("", 290, 749)),
            _line(
                "{v} Wrap",
                "Chicken Caesar|Falafel|Buffalo Chicken|Veggie Hummus",
                _Size("", 260, 649),
            ),
        ),
        plates_per_bay=(2, 3),
        sd_frac=0.03,
        variant_spread=0.06,
    ),
    _Category(
        "salads",
        ("fresh", "salad"),
        ("Walkout Kitchen", "Green Fork", "Farmhouse"),
        (
            _line(
                "{v} Salad", "Cobb|Greek|Quinoa Power|Caesar|Asian Sesame", _Size("bowl", 310, 749)
            ),
            _line("{v} Side Salad", "Garden|Kale Crunch", _Size("", 160, 399)),
            _line("Grain Bowl {v}", "Mediterranean|Teriyaki Chicken", _Size("", 380, 899)),
        ),
        plates_per_bay=(2, 3),
        sd_frac=0.03,
        variant_spread=0.05,
    ),
    _Category(
        "fruit",
        ("fresh", "fruit"),
        ("Walkout Kitchen", "Orchard Cup", "Sunny Grove"),
        (
            _line(
                "Fruit Cup {v}", "Mixed Berry|Pineapple|Melon Medley|Mango", _Size("8 oz", 245, 399)
            ),
            _line("{v}", "Apple Slices|Grapes", _Size("6 oz", 185, 299)),
            _line("Whole {v}", "Banana|Apple|Orange", _Size("each", 150, 99)),
        ),
        plates_per_bay=(3, 4),
        sd_frac=0.04,
        variant_spread=0.01,
    ),
    _Category(
        "desserts",
        ("fresh", "dessert"),
        ("Sweet Street", "Little Bakeshop"),
        (
            _line("{v} Cheesecake Slice", "New York|Strawberry|Chocolate", _Size("", 140, 449)),
            _line("{v} Pudding Cup", "Chocolate|Vanilla|Rice|Banana", _Size("4 oz", 128, 249)),
            _line(
                "{v} Cookie",
                "Chocolate Chip|Oatmeal Raisin|Double Chocolate",
                _Size("large", 95, 229),
            ),
            _line("{v} Brownie", "Fudge|Blondie", _Size("", 110, 279)),
        ),
        plates_per_bay=(3, 4),
        sd_frac=0.025,
        variant_spread=0.01,
    ),
    _Category(
        "ready_meals",
        ("fresh", "ready-meal", "hot"),
        ("Walkout Kitchen", "Urban Table"),
        (
            _line(
                "{v}",
                "Chicken Tikka Masala|Mac & Cheese|Beef Lasagna|"
                "Pad Thai|Burrito Bowl|Teriyaki Salmon",
                _Size("", 420, 999),
            ),
            _line("{v} Soup", "Tomato Basil|Chicken Noodle|Lentil", _Size("16 oz", 500, 549)),
        ),
        plates_per_bay=(2,),
        sd_frac=0.03,
        variant_spread=0.05,
    ),
    _Category(
        "meal_kits",
        ("fresh", "meal-kit"),
        ("Walkout Kitchen", "Supper Club"),
        (
            _line(
                "{v} Meal Kit for 2",
                "Chicken Fajita|Shrimp Scampi|Beef Stir Fry|Mushroom Risotto|Salmon Teriyaki",
                _Size("", 1150, 1599),
            ),
            _line("{v} Pasta Kit", "Pesto|Carbonara|Primavera", _Size("", 820, 1199)),
        ),
        plates_per_bay=(2,),
        sd_frac=0.025,
        variant_spread=0.06,
    ),
    _Category(
        "soda",
        ("drink", "soda"),
        ("Walkout Basics", "Fizz", "Crown Cola", "Polar Peak"),
        (
            _line(
                "{v}",
                "Cola|Diet Cola|Cola Zero Sugar|Lemon-Lime|Orange|"
                "Root Beer|Ginger Ale|Cream Soda|Grape",
                _Size("355 ml can", 368, 149, "can"),
                _Size("591 ml bottle", 620, 229, "bottle"),
                _Size("2 L bottle", 2090, 329, "bottle"),
            ),
        ),
        plates_per_bay=(3, 4),
        sd_frac=0.006,
    ),
    _Category(
        "water",
        ("drink", "water"),
        ("Walkout Basics", "Clearwater", "Summit Springs", "Polar Peak"),
        (
            _line(
                "Spring Water",
                "",
                _Size("500 ml", 512, 129, "bottle"),
                _Size("1 L", 1025, 199, "bottle"),
            ),
            _line(
                "Sparkling Water {v}",
                "Plain|Lime|Grapefruit|Berry",
                _Size("355 ml can", 366, 119, "can"),
                _Size("1 L bottle", 1060, 219, "bottle"),
            ),
        ),
        plates_per_bay=(3,),
        sd_frac=0.006,
    ),
    _Category(
        "juice",
        ("drink", "juice", "chilled"),
        ("Walkout Basics", "Sunny Grove", "Pressed Daily", "Orchard Gold"),
        (
            _line(
                "{v} Juice",
                "Orange|Apple|Green|Carrot Ginger|Cranberry",
                _Size("450 ml", 492, 399, "bottle"),
                _Size("1.5 L", 1610, 599, "bottle"),
            ),
            _line(
                "{v} Smoothie",
                "Strawberry Banana|Mango|Berry Protein",
                _Size("300 ml", 340, 449, "bottle"),
            ),
            _line("{v}", "Coconut Water|Aloe Drink", _Size("500 ml", 530, 299, "bottle")),
            _line(
                "{v} Lemonade", "Classic|Strawberry|Raspberry", _Size("52 oz", 1620, 449, "bottle")
            ),
        ),
        plates_per_bay=(3,),
        sd_frac=0.008,
    ),
    _Category(
        "energy",
        ("drink", "energy"),
        ("Walkout Basics", "Volt", "Redline", "Hydra"),
        (
            _line(
                "Energy Drink {v}",
                "Original|Sugar Free|Tropical|Berry",
                _Size("250 ml can", 272, 229, "can"),
                _Size("473 ml can", 495, 329, "can"),
            ),
            _line(
                "Sports Drink {v}",
                "Lemon-Lime|Fruit Punch|Glacier|Orange",
                _Size("710 ml", 745, 229, "bottle"),
            ),
        ),
        plates_per_bay=(3, 4),
        sd_frac=0.006,
    ),
    _Category(
        "coffee",
        ("coffee",),
        ("Walkout Basics", "Roastery Row", "Mountain Bean", "Daybreak"),
        (
            _line(
                "{v} Whole Bean Coffee",
                "House Blend|Dark Roast|Breakfast Blend|Decaf",
                _Size("12 oz", 365, 1099, "bag"),
            ),
            _line(
                "{v} Ground Coffee",
                "Medium Roast|French Roast|Colombian",
                _Size("12 oz", 362, 999, "bag"),
            ),
            _line(
                "Cold Brew {v}",
                "Black|Vanilla Oat|Mocha|Caramel",
                _Size("325 ml bottle", 365, 399, "bottle"),
                _Size("240 ml can", 262, 349, "can"),
            ),
            _line("Coffee Pods {v}", "Medium|Dark", _Size("12 ct", 145, 899, "box")),
        ),
        plates_per_bay=(3,),
        sd_frac=0.008,
    ),
    _Category(
        "tea",
        ("tea",),
        ("Walkout Basics", "Leaf & Kettle", "Jade Garden"),
        (
            _line(
                "{v} Tea",
                "English Breakfast|Green|Chamomile|Earl Grey|Peppermint|Rooibos|Matcha",
                _Size("20 bags", 48, 449, "box"),
            ),
            _line("Iced Tea {v}", "Lemon|Peach|Unsweetened", _Size("500 ml", 530, 229, "bottle")),
        ),
        plates_per_bay=(3, 4),
        sd_frac=0.01,
    ),
    _Category(
        "chips",
        ("snack", "chips"),
        ("Walkout Basics", "Crunch Co.", "Golden Acre", "Kettle Ridge"),
        (
            _line(
                "{v} Potato Chips",
                "Sea Salt|Salt & Vinegar|BBQ|Sour Cream & Onion|Jalapeño",
                _Size("1.5 oz", 48, 179, "bag"),
                _Size("8 oz", 240, 449, "bag"),
            ),
            _line(
                "Tortilla Chips {v}",
                "Restaurant Style|Lime|Nacho Cheese",
                _Size("11 oz", 335, 479, "bag"),
            ),
            _line(
                "Popcorn {v}", "Butter|White Cheddar|Kettle Corn", _Size("5 oz", 155, 399, "bag")
            ),
            _line("{v} Pita Chips", "Sea Salt|Garlic", _Size("7.33 oz", 215, 429, "bag")),
            _line("Veggie Straws {v}", "Sea Salt|Ranch", _Size("6 oz", 175, 379, "bag")),
        ),
        plates_per_bay=(3, 4),
        sd_frac=0.02,
    ),
    _Category(
        "candy",
        ("snack", "candy"),
        ("Walkout Basics", "Cocoa Bay", "Sugar Loaf", "Chewz"),
        (
            _line(
                "{v} Chocolate Bar",
                "Milk|Dark 70%|Almond|Caramel|Crisped Rice",
                _Size("1.5 oz", 45, 169, "bar"),
                _Size("3.5 oz", 103, 349, "bar"),
            ),
            _line("{v} Gummies", "Bears|Worms|Sour Peach", _Size("5 oz", 148, 249, "bag")),
            _line("{v} Licorice", "Red|Black", _Size("7 oz", 200, 249, "bag")),
            _line("Peanut Butter Cups {v}", "Milk|Dark", _Size("1.5 oz", 42, 169)),
            _line("Mints {v}", "Peppermint|Spearmint|Wintergreen", _Size("tin", 40, 229)),
        ),
        plates_per_bay=(4,),
        sd_frac=0.02,
    ),
    _Category(
        "nuts",
        ("snack", "nuts"),
        ("Walkout Basics", "Trail Hound", "Golden Acre"),
        (
            _line(
                "{v}",
                "Roasted Almonds|Cashews|Mixed Nuts|Pistachios|Peanuts",
                _Size("6 oz", 180, 599, "can"),
            ),
            _line(
                "Trail Mix {v}", "Classic|Tropical|Sweet & Salty", _Size("8 oz", 238, 549, "bag")
            ),
            _line("Jerky {v}", "Original|Teriyaki|Peppered", _Size("2.85 oz", 90, 699, "bag")),
        ),
        plates_per_bay=(3, 4),
        sd_frac=0.02,
    ),
    _Category(
        "cookies",
        ("snack", "cookies"),
        ("Walkout Basics", "Little Bakeshop", "Biscotto", "Grandma Rae"),
        (
            _line(
                "{v} Cookies",
                "Chocolate Chip|Oatmeal|Shortbread|Double Fudge",
                _Size("13 oz", 385, 449, "box"),
            ),
            _line(
                "{v} Sandwich Cookies", "Vanilla|Chocolate|Lemon", _Size("14 oz", 410, 399, "box")
            ),
            _line("{v} Wafers", "Hazelnut|Vanilla", _Size("7 oz", 210, 349, "box")),
            _line("{v} Graham Crackers", "Honey|Cinnamon", _Size("14.4 oz", 425, 399, "box")),
            _line("Biscotti {v}", "Almond|Chocolate", _Size("6 oz", 180, 449, "box")),
        ),
        plates_per_bay=(3,),
        sd_frac=0.015,
    ),
    _Category(
        "crackers",
        ("snack", "crackers"),
        ("Walkout Basics", "Biscotto", "Golden Acre"),
        (
            _line(
                "{v} Crackers",
                "Butter|Whole Wheat|Cheddar|Rosemary|Sea Salt",
                _Size("9 oz", 275, 379, "box"),
            ),
            _line("Rice Cakes {v}", "Lightly Salted|Caramel", _Size("4.5 oz", 140, 299, "bag")),
            _line("Pretzels {v}", "Twists|Rods|Sourdough", _Size("16 oz", 470, 349, "bag")),
        ),
        plates_per_bay=(3,),
        sd_frac=0.015,
    ),
    _Category(
        "bars",
        ("snack", "breakfast", "bar"),
        ("Walkout Basics", "Trail Hound", "Daybreak", "Peak Fuel"),
        (
            _line(
                "Granola Bar {v}",
                "Oats & Honey|Peanut Butter|Dark Chocolate|Cranberry Almond",
                _Size("single", 42, 149),
            ),
            _line(
                "Protein Bar {v}",
                "Chocolate Peanut|Cookie Dough|Birthday Cake|Salted Caramel|Mint Chocolate|Lemon",
                _Size("single", 60, 299),
            ),
            _line(
                "Granola Bars {v}",
                "Oats & Honey|Chewy Chocolate Chip",
                _Size("6 ct box", 265, 449, "box"),
            ),
            _line(
                "Fruit Snacks {v}", "Mixed Fruit|Berry|Tropical", _Size("10 ct", 230, 399, "box")
            ),
        ),
        plates_per_bay=(4,),
        sd_frac=0.015,
    ),
    _Category(
        "bakery",
        ("bakery",),
        ("Walkout Basics", "Little Bakeshop", "Hearth & Stone"),
        (
            _line("{v} Croissant", "Butter|Chocolate|Almond", _Size("", 72, 249)),
            _line(
                "{v} Muffin",
                "Blueberry|Banana Nut|Double Chocolate|Lemon Poppy",
                _Size("", 128, 279),
            ),
            _line("{v} Bagel", "Plain|Everything|Sesame|Cinnamon Raisin", _Size("", 105, 149)),
            _line(
                "{v} Bread",
                "Sourdough|Multigrain|White Sandwich|Rye",
                _Size("loaf", 680, 549, "loaf"),
            ),
            _line("{v} Scone", "Blueberry|Cranberry Orange|Maple Oat", _Size("", 115, 299)),
            _line("{v} Tortillas", "Flour|Corn|Whole Wheat", _Size("10 ct", 450, 349, "bag")),
        ),
        plates_per_bay=(3, 4),
        sd_frac=0.04,
        variant_spread=0.03,
    ),
    _Category(
        "yogurt",
        ("dairy", "chilled", "yogurt"),
        ("Walkout Basics", "Meadow Fresh", "Olympus", "Alpine Dairy"),
        (
            _line(
                "Greek Yogurt {v}",
                "Plain|Strawberry|Blueberry|Vanilla|Honey|Peach",
                _Size("5.3 oz", 162, 149, "cup"),
                _Size("32 oz", 960, 649, "tub"),
            ),
            _line(
                "Yogurt Drink {v}", "Strawberry|Mango|Plain", _Size("250 ml", 268, 229, "bottle")
            ),
            _line("Parfait {v}", "Berry Granola|Vanilla Almond", _Size("", 210, 399, "cup")),
        ),
        plates_per_bay=(3, 4),
        sd_frac=0.01,
    ),
    _Category(
        "milk",
        ("dairy", "chilled", "milk"),
        ("Walkout Basics", "Meadow Fresh", "Alpine Dairy", "Oat Valley"),
        (
            _line(
                "{v} Milk",
                "Whole|2%|Skim|Lactose-Free",
                _Size("half gallon", 2010, 399, "carton"),
                _Size("quart", 1010, 249, "carton"),
            ),
            _line("{v} Milk", "Chocolate|Strawberry", _Size("14 oz", 440, 249, "bottle")),
            _line(
                "{v} Oat Milk", "Original|Barista|Unsweetened", _Size("64 oz", 1980, 499, "carton")
            ),
            _line(
                "{v} Creamer",
                "Half & Half|Hazelnut|French Vanilla",
                _Size("16 oz", 505, 349, "carton"),
            ),
        ),
        plates_per_bay=(2, 3),
        sd_frac=0.008,
    ),
    _Category(
        "cheese",
        ("dairy", "chilled", "cheese"),
        ("Walkout Basics", "Alpine Dairy", "Vermont Hill", "Casa Bella"),
        (
            _line(
                "{v} Cheese Block",
                "Sharp Cheddar|Mild Cheddar|Monterey Jack|Pepper Jack|Swiss",
                _Size("8 oz", 236, 449, "block"),
            ),
            _line(
                "Shredded {v}", "Mozzarella|Mexican Blend|Parmesan", _Size("8 oz", 240, 429, "bag")
            ),
            _line("{v} Slices", "Provolone|American|Havarti", _Size("8 oz", 245, 459, "pack")),
            _line("String Cheese {v}", "Mozzarella|Colby Jack", _Size("12 ct", 350, 599, "bag")),
            _line("{v} Cheese", "Brie|Goat|Feta", _Size("4 oz", 125, 549, "pack")),
        ),
        plates_per_bay=(3, 4),
        sd_frac=0.012,
    ),
    _Category(
        "butter_eggs",
        ("dairy", "chilled"),
        ("Walkout Basics", "Meadow Fresh", "Happy Hen", "Alpine Dairy"),
        (
            _line("{v} Butter", "Salted|Unsalted|Spreadable", _Size("16 oz", 470, 549, "box")),
            _line(
                "{v} Eggs",
                "Large Brown|Large White|Free Range",
                _Size("dozen", 720, 449, "carton"),
                _Size("6 ct", 370, 279, "carton"),
            ),
            _line("{v} Cream Cheese", "Original|Chive|Strawberry", _Size("8 oz", 240, 349, "tub")),
            _line("{v} Sour Cream", "Regular|Light", _Size("16 oz", 480, 299, "tub")),
            _line("{v} Cream", "Heavy|Whipping", _Size("16 oz", 500, 399, "carton")),
        ),
        plates_per_bay=(3,),
        sd_frac=0.012,
    ),
    _Category(
        "deli",
        ("deli", "chilled"),
        ("Walkout Basics", "Corner Deli", "Casa Bella", "Hillside Farms"),
        (
            _line(
                "Sliced {v}",
                "Oven Roasted Turkey|Black Forest Ham|Genoa Salami|Roast Beef|Smoked Chicken",
                _Size("7 oz", 215, 599, "pack"),
            ),
            _line(
                "{v} Hummus",
                "Classic|Roasted Red Pepper|Garlic|Spicy",
                _Size("10 oz", 300, 429, "tub"),
            ),
            _line(
                "{v} Dip",
                "Guacamole|Spinach Artichoke|French Onion",
                _Size("8 oz", 245, 449, "tub"),
            ),
            _line("{v} Olives", "Kalamata|Castelvetrano", _Size("6 oz", 190, 499, "cup")),
            _line("{v} Salad", "Potato|Macaroni|Coleslaw", _Size("16 oz", 470, 399, "tub")),
        ),
        plates_per_bay=(3, 4),
        sd_frac=0.015,
    ),
    _Category(
        "meat",
        ("meat", "chilled"),
        ("Walkout Basics", "Hillside Farms", "Prairie Ranch", "Coastline"),
        (
            _line(
                "Chicken {v}",
                "Breasts|Thighs|Drumsticks|Tenderloins",
                _Size("1.5 lb", 715, 899, "tray"),
            ),
            _line("Ground Beef {v}", "80/20|90/10|93/7", _Size("1 lb", 485, 699, "tray")),
            _line("{v} Bacon", "Hickory Smoked|Thick Cut|Turkey", _Size("12 oz", 360, 649, "pack")),
            _line(
                "{v} Sausages", "Italian|Bratwurst|Chicken Apple", _Size("19 oz", 560, 599, "pack")
            ),
            _line("Salmon Fillet {v}", "Atlantic|Sockeye", _Size("12 oz", 370, 1199, "tray")),
            _line("Pork Chops {v}", "Bone-In|Boneless", _Size("1.25 lb", 590, 799, "tray")),
        ),
        plates_per_bay=(2, 3),
        sd_frac=0.03,
        variant_spread=0.02,
    ),
    _Category(
        "produce",
        ("produce", "fresh"),
        ("Walkout Basics", "Green Fork", "Sunny Grove", "Hillside Farms"),
        (
            _line(
                "{v} Salad Mix",
                "Spring Mix|Baby Spinach|Romaine Hearts|Arugula|Kale",
                _Size("5 oz", 155, 399, "clamshell"),
            ),
            _line(
                "{v}",
                "Strawberries|Blueberries|Raspberries|Cherry Tomatoes",
                _Size("1 pint", 360, 449, "clamshell"),
            ),
            _line(
                "{v}",
                "Baby Carrots|Snap Peas|Broccoli Florets|Green Beans",
                _Size("12 oz", 350, 299, "bag"),
            ),
            _line(
                "{v}", "Gala Apples|Navel Oranges|Lemons|Avocados", _Size("bag", 1370, 599, "bag")
            ),
        ),
        plates_per_bay=(2, 3),
        sd_frac=0.04,
        variant_spread=0.02,
    ),
    _Category(
        "frozen_meals",
        ("frozen",),
        ("Walkout Basics", "Polar Kitchen", "Urban Table", "Garden Gate"),
        (
            _line(
                "{v}",
                "Chicken Alfredo|Beef Enchiladas|Vegetable Lasagna|Orange Chicken|Meatloaf|Burrito",
                _Size("10 oz", 310, 449, "box"),
            ),
            _line(
                "{v} Pizza",
                "Pepperoni|Margherita|Supreme|Four Cheese",
                _Size("12 in", 560, 699, "box"),
            ),
            _line("{v} Dumplings", "Pork|Chicken|Vegetable", _Size("16 oz", 470, 799, "bag")),
        ),
        plates_per_bay=(2, 3),
        sd_frac=0.01,
    ),
    _Category(
        "frozen_sides",
        ("frozen",),
        ("Walkout Basics", "Polar Kitchen", "Garden Gate"),
        (
            _line(
                "Frozen {v}",
                "Peas|Corn|Broccoli|Mixed Vegetables|Green Beans|Edamame",
                _Size("12 oz", 350, 249, "bag"),
            ),
            _line(
                "{v} Fries", "Crinkle Cut|Shoestring|Sweet Potato", _Size("32 oz", 920, 449, "bag")
            ),
            _line(
                "Frozen {v}",
                "Strawberries|Mango Chunks|Mixed Berries",
                _Size("16 oz", 470, 499, "bag"),
            ),
            _line("{v} Hash Browns", "Shredded|Patties", _Size("20 oz", 580, 349, "bag")),
            _line("Frozen {v}", "Waffles|Pancakes", _Size("12.3 oz", 350, 379, "box")),
        ),
        plates_per_bay=(2, 3),
        sd_frac=0.01,
    ),
    _Category(
        "ice_cream",
        ("frozen", "dessert"),
        ("Walkout Basics", "Polar Peak", "Scoop Shop", "Sweet Street"),
        (
            _line(
                "{v} Ice Cream",
                "Vanilla|Chocolate|Cookies & Cream|Mint Chip|Strawberry|Salted Caramel",
                _Size("pint", 475, 549, "pint"),
                _Size("1.5 qt", 1370, 649, "tub"),
            ),
            _line("{v} Ice Cream Bars", "Vanilla|Chocolate", _Size("6 ct", 480, 599, "box")),
            _line(
                "Frozen Yogurt {v}", "Vanilla|Strawberry|Chocolate", _Size("pint", 470, 499, "pint")
            ),
        ),
        plates_per_bay=(3,),
        sd_frac=0.01,
    ),
    _Category(
        "cereal",
        ("breakfast", "cereal"),
        ("Walkout Basics", "Daybreak", "Golden Acre", "Sunrise Mills"),
        (
            _line(
                "{v} Cereal",
                "Honey Oat|Corn Flakes|Frosted Wheat|Cocoa Puffs|Raisin Bran|Fruit Rings",
                _Size("12 oz", 395, 449, "box"),
                _Size("18 oz", 575, 549, "box"),
            ),
            _line(
                "{v} Granola", "Maple Pecan|Vanilla Almond|Berry", _Size("12 oz", 370, 599, "bag")
            ),
            _line(
                "Instant Oatmeal {v}",
                "Maple & Brown Sugar|Apple Cinnamon|Original",
                _Size("10 ct", 450, 449, "box"),
            ),
        ),
        plates_per_bay=(2, 3),
        sd_frac=0.012,
    ),
    _Category(
        "pasta",
        ("pantry", "pasta"),
        ("Walkout Basics", "Casa Bella", "Sunrise Mills", "Nonna's"),
        (
            _line(
                "{v}",
                "Spaghetti|Penne|Rigatoni|Fusilli|Linguine|Elbows|Farfalle|Orzo",
                _Size("16 oz", 470, 199, "box"),
            ),
            _line(
                "{v} Pasta Sauce",
                "Marinara|Tomato Basil|Vodka|Arrabbiata",
                _Size("24 oz", 990, 499, "jar"),
            ),
            _line("{v} Pesto", "Basil|Sun-Dried Tomato", _Size("6 oz", 330, 449, "jar")),
        ),
        plates_per_bay=(3,),
        sd_frac=0.01,
    ),
    _Category(
        "rice_grains",
        ("pantry", "grains"),
        ("Walkout Basics", "Sunrise Mills", "Jade Garden", "Golden Acre"),
        (
            _line(
                "{v} Rice", "Long Grain White|Jasmine|Basmati|Brown", _Size("2 lb", 925, 399, "bag")
            ),
            _line("{v}", "Quinoa|Couscous|Farro", _Size("12 oz", 355, 449, "box")),
            _line(
                "Microwave Rice {v}", "Jasmine|Brown|Spanish", _Size("8.8 oz", 265, 249, "pouch")
            ),
        ),
        plates_per_bay=(2, 3),
        sd_frac=0.01,
    ),
    _Category(
        "canned",
        ("pantry", "canned"),
        ("Walkout Basics", "Garden Gate", "Harvest Lane", "Coastline"),
        (
            _line(
                "{v}",
                "Black Beans|Kidney Beans|Chickpeas|Pinto Beans",
                _Size("15 oz", 470, 129, "can"),
            ),
            _line(
                "{v}",
                "Sweet Corn|Green Beans|Diced Tomatoes|Sweet Peas",
                _Size("14.5 oz", 465, 119, "can"),
            ),
            _line(
                "{v} Soup",
                "Chicken Noodle|Tomato|Minestrone|Clam Chowder",
                _Size("18.6 oz", 580, 299, "can"),
            ),
            _line("{v}", "Tuna in Water|Salmon|Sardines", _Size("5 oz", 165, 199, "can")),
            _line(
                "{v}", "Peaches|Pineapple Chunks|Mandarin Oranges", _Size("15 oz", 480, 189, "can")
            ),
        ),
        plates_per_bay=(3, 4),
        sd_frac=0.008,
    ),
    _Category(
        "baking",
        ("pantry", "baking"),
        ("Walkout Basics", "Sunrise Mills", "Harvest Lane"),
        (
            _line("{v} Flour", "All-Purpose|Bread|Whole Wheat", _Size("5 lb", 2290, 449, "bag")),
            _line("{v} Sugar", "Granulated|Brown|Powdered", _Size("2 lb", 915, 349, "bag")),
            _line(
                "{v} Mix", "Pancake|Brownie|Cornbread|Yellow Cake", _Size("16 oz", 475, 329, "box")
            ),
            _line("{v} Chocolate Chips", "Semi-Sweet|Milk|Dark", _Size("12 oz", 355, 399, "bag")),
            _line("Baking {v}", "Soda|Powder", _Size("8 oz", 240, 199, "box")),
        ),
        plates_per_bay=(2, 3),
        sd_frac=0.01,
    ),
    _Category(
        "condiments",
        ("pantry", "condiment"),
        ("Walkout Basics", "Harvest Lane", "Casa Bella", "Smokehouse"),
        (
            _line(
                "{v}",
                "Ketchup|Yellow Mustard|Mayonnaise|BBQ Sauce|Hot Sauce|Ranch Dressing",
                _Size("16 oz", 520, 349, "bottle"),
            ),
            _line("{v} Salsa", "Mild|Medium|Hot|Verde", _Size("16 oz", 560, 399, "jar")),
            _line(
                "{v}",
                "Extra Virgin Olive Oil|Canola Oil|Balsamic Vinegar",
                _Size("500 ml", 890, 799, "bottle"),
            ),
            _line("{v} Peanut Butter", "Creamy|Crunchy|Natural", _Size("16 oz", 520, 399, "jar")),
            _line("{v} Jam", "Strawberry|Grape|Raspberry|Apricot", _Size("18 oz", 720, 399, "jar")),
            _line(
                "{v} Pickles",
                "Dill Spears|Bread & Butter|Kosher Dill",
                _Size("24 oz", 850, 399, "jar"),
            ),
        ),
        plates_per_bay=(3,),
        sd_frac=0.01,
    ),
    _Category(
        "spices",
        ("pantry", "spice"),
        ("Walkout Basics", "Spice Route", "Harvest Lane"),
        (
            _line(
                "Ground {v}",
                "Cinnamon|Cumin|Paprika|Black Pepper|Ginger|Turmeric|Chili Powder",
                _Size("2 oz", 105, 399, "jar"),
            ),
            _line("{v} Seasoning", "Italian|Taco|Cajun|Garlic Herb", _Size("1 oz", 72, 329, "jar")),
            _line("{v} Salt", "Sea|Kosher|Iodized", _Size("26 oz", 770, 199, "canister")),
        ),
        plates_per_bay=(4,),
        sd_frac=0.012,
    ),
    _Category(
        "paper",
        ("household", "paper"),
        ("Walkout Basics", "Homestead", "Softly"),
        (
            _line(
                "{v}",
                "Paper Towels 6 Rolls|Bath Tissue 12 Rolls|Facial Tissue 3 Boxes",
                _Size("", 1250, 1099, "pack"),
            ),
            _line("{v} Napkins", "White|Printed", _Size("200 ct", 780, 399, "pack")),
            _line("Paper Plates {v}", "9 in|6 in", _Size("50 ct", 700, 449, "pack")),
            _line(
                "{v}",
                "Kitchen Trash Bags|Sandwich Bags|Aluminum Foil|Plastic Wrap",
                _Size("box", 640, 549, "box"),
            ),
        ),
        plates_per_bay=(2,),
        sd_frac=0.015,
        bulky=True,
    ),
    _Category(
        "cleaning",
        ("household", "cleaning"),
        ("Walkout Basics", "Homestead", "Sparkle", "Greenleaf"),
        (
            _line(
                "Dish Soap {v}", "Original|Lemon|Free & Clear", _Size("19.4 oz", 640, 349, "bottle")
            ),
            _line(
                "Laundry Detergent {v}",
                "Fresh Scent|Free & Clear|Lavender",
                _Size("50 oz", 1640, 1199, "bottle"),
            ),
            _line(
                "All-Purpose Cleaner {v}",
                "Lemon|Lavender|Unscented",
                _Size("32 oz", 1060, 449, "spray"),
            ),
            _line("{v} Sponges", "Scrub|Non-Scratch", _Size("3 ct", 58, 299, "pack")),
        ),
        plates_per_bay=(2, 3),
        sd_frac=0.01,
    ),
    _Category(
        "personal_care",
        ("personal-care",),
        ("Walkout Basics", "Softly", "Pure Botanics", "Brightsmile"),
        (
            _line(
                "{v} Shampoo",
                "Moisture|Volume|Clarifying|Anti-Dandruff",
                _Size("12 oz", 395, 699, "bottle"),
            ),
            _line("{v} Conditioner", "Moisture|Volume", _Size("12 oz", 400, 699, "bottle")),
            _line(
                "Toothpaste {v}", "Whitening|Sensitive|Fresh Mint", _Size("4.1 oz", 150, 399, "box")
            ),
            _line("Bar Soap {v}", "Oatmeal|Aloe|Shea Butter", _Size("2 ct", 240, 449, "pack")),
            _line("Deodorant {v}", "Fresh|Unscented|Cedar", _Size("2.6 oz", 105, 599, "stick")),
            _line("Lotion {v}", "Daily|Shea|Unscented", _Size("16 oz", 520, 799, "bottle")),
            _line("Mouthwash {v}", "Mint|Alcohol-Free", _Size("500 ml", 560, 549, "bottle")),
            _line("Body Wash {v}", "Citrus|Oatmeal|Charcoal", _Size("18 oz", 560, 649, "bottle")),
        ),
        plates_per_bay=(3, 4),
        sd_frac=0.012,
    ),
    _Category(
        "baby",
        ("baby",),
        ("Walkout Basics", "Little Sprout", "Softly"),
        (
            _line(
                "Baby Food {v}",
                "Apple|Banana|Sweet Potato|Pear|Carrot",
                _Size("4 oz", 160, 149, "pouch"),
            ),
            _line("Diapers Size {v}", "1|2|3|4", _Size("jumbo pack", 1180, 1299, "pack")),
            _line("Baby Wipes {v}", "Fragrance Free|Sensitive", _Size("72 ct", 520, 349, "pack")),
            _line(
                "Baby Puffs {v}",
                "Strawberry Apple|Banana|Sweet Potato",
                _Size("1.48 oz", 62, 299, "can"),
            ),
        ),
        plates_per_bay=(2, 3),
        sd_frac=0.012,
    ),
    _Category(
        "pet",
        ("pet",),
        ("Walkout Basics", "Happy Tails", "Whisker Co."),
        (
            _line("Dog Food {v}", "Chicken & Rice|Beef|Lamb", _Size("5 lb", 2310, 1299, "bag")),
            _line("Cat Food {v}", "Salmon|Chicken|Turkey|Tuna", _Size("3 oz", 95, 99, "can")),
            _line("Dog Treats {v}", "Bacon|Peanut Butter", _Size("8 oz", 245, 599, "bag")),
        ),
        plates_per_bay=(2, 3),
        sd_frac=0.012,
        bulky=True,
    ),
    _Category(
        "beer",
        ("alcohol", "beer"),
        ("Walkout Basics", "Harbor Brewing", "Copper Kettle", "Northbound"),
        (
            _line(
                "{v}",
                "Pale Ale|IPA|Lager|Pilsner|Stout|Hazy IPA|Wheat Ale|Amber Ale",
                _Size("12 oz bottle", 560, 299, "bottle"),
                _Size("16 oz can", 495, 349, "can"),
            ),
            _line("{v} 6-Pack", "Lager|IPA", _Size("12 oz cans", 2280, 1099, "pack")),
            _line("{v} 12-Pack", "Lager|Pale Ale", _Size("12 oz cans", 4560, 1899, "pack")),
            _line("Hard Cider {v}", "Dry|Rosé|Pear", _Size("12 oz bottle", 565, 299, "bottle")),
        ),
        plates_per_bay=(3, 4),
        sd_frac=0.006,
        age_restricted=True,
    ),
    _Category(
        "wine",
        ("alcohol", "wine"),
        ("Walkout Basics", "Vista Ridge", "Old Cellar", "Costa Sol"),
        (
            _line(
                "{v}",
                "Cabernet Sauvignon|Merlot|Pinot Noir|Malbec|Zinfandel|"
                "Chardonnay|Sauvignon Blanc|Riesling|Rosé|Prosecco",
                _Size("750 ml", 1255, 1299, "bottle"),
            ),
            _line("{v}", "Red Blend|White Blend", _Size("375 ml can", 395, 699, "can")),
            _line("Sparkling {v}", "Brut|Rosé", _Size("750 ml", 1610, 1499, "bottle")),
        ),
        plates_per_bay=(3,),
        sd_frac=0.008,
        age_restricted=True,
    ),
    _Category(
        "spirits",
        ("alcohol", "spirits"),
        ("Walkout Basics", "Old Cellar", "Blue Fjord", "Copper Still"),
        (
            _line(
                "{v}",
                "Vodka|Gin|Bourbon|Spiced Rum|Tequila Blanco",
                _Size("750 ml", 1210, 2499, "bottle"),
                _Size("375 ml", 660, 1399, "bottle"),
            ),
            _line(
                "Hard Seltzer {v}", "Black Cherry|Lime|Mango", _Size("12 oz can", 370, 299, "can")
            ),
        ),
        plates_per_bay=(3,),
        sd_frac=0.008,
        age_restricted=True,
    ),
)

_CATEGORIES = {c.key: c for c in _CATALOGUE}


@dataclass(frozen=True)
class _Item:
    """A catalogue product in a store's pool; ``family`` groups the variants of one line."""

    product: Product
    family: int


def _upc(prefix: str, item: int) -> str:
    """A 12-digit UPC-A code: 6-digit company prefix, 5-digit item number, check digit."""
    body = f"{prefix}{item:05d}"
    odd = sum(int(d) for d in body[0::2])
    even = sum(int(d) for d in body[1::2])
    return body + str((10 - (3 * odd + even) % 10) % 10)


def _price(cents: float) -> int:
    """Shelf price ending in 9, at least 0.49."""
    return max(49, round(cents / 10) * 10 - 1)


def _product_pools(keys: list[str], rng: np.random.Generator) -> dict[str, list[_Item]]:
    """Every catalogue product of the given categories, families in random order per category."""
    brands = sorted({b for c in _CATALOGUE for b in c.brands})
    # A UPC company prefix per brand: number system (mostly 0, so leading zeros) + 5 digits.
    systems = rng.choice(list("0000678"), size=len(brands))
    companies = rng.choice(90_000, size=len(brands), replace=False) + 10_000
    prefixes = {b: f"{s}{c}" for b, s, c in zip(brands, systems, companies, strict=True)}
    next_item = {b: int(rng.integers(100, 60_000)) for b in brands}
    pools: dict[str, list[_Item]] = {}
    family = 0
    for key in keys:
        cat = _CATEGORIES[key]
        families: list[list[Product]] = []
        for brand in cat.brands:
            for line in cat.lines:
                for size in line.sizes:
                    weight = size.weight_g * rng.uniform(0.95, 1.05)
                    price = _price(size.price * rng.uniform(0.85, 1.2))
                    members: list[Product] = []
                    for variant in line.variants:
                        next_item[brand] += int(rng.integers(1, 40))
                        w = round(weight * (1 + cat.variant_spread * rng.standard_normal()), 1)
                        name = " ".join(
                            f"{brand} {line.name.format(v=variant)} {size.label}".split()
                        )
                        tags = [*cat.tags, size.tag] if size.tag else list(cat.tags)
                        members.append(
                            Product(
                                sku=_upc(prefixes[brand], next_item[brand]),
                                name=name,
                                price=price,
                                weight_g=w,
                                weight_sd_g=round(
                                    max(cat.sd_frac * w * rng.uniform(0.8, 1.2), 0.5), 2
                                ),
                                age_restricted=cat.age_restricted,
                                tags=tags,
                            )
                        )
                    families.append(members)
        pool: list[_Item] = []
        for i in rng.permutation(len(families)):
            family += 1
            pool += [_Item(p, family) for p in families[int(i)]]
        pools[key] = pool
    return pools


# --- layout ----------------------------------------------------------------------------------

Normal = Literal["-x", "+x", "-y", "+y"]


@dataclass(frozen=True)
class _Face:
    """One shelving face of a fixture: the side it faces and the category of each bay."""

    side: str
    normal: Normal
    bays: tuple[str, ...]


@dataclass(frozen=True)
class _Unit:
    """A shelving fixture to build: an axis-aligned footprint of whole bays, with its shelves."""

    id: str
    kind: str
    x0: float
    y0: float
    x1: float
    y1: float
    height: float
    shelves: tuple[float, ...]
    faces: tuple[_Face, ...]

    @property
    def along_y(self) -> bool:
        return self.y1 - self.y0 > self.x1 - self.x0

    def fixture(self) -> Fixture:
        x0, y0, x1, y1 = self.x0, self.y0, self.x1, self.y1
        return Fixture(
            id=self.id,
            kind=self.kind,
            footprint=[(x0, y0), (x1, y0), (x1, y1), (x0, y1)],
            height=self.height,
        )


def _face(side: str, normal: Normal, n_bays: int, *categories: str) -> _Face:
    """A face whose bays are split evenly, in order, among ``categories``."""
    if n_bays % len(categories):
        raise ValueError(f"{n_bays} bays cannot be split evenly among {categories}")
    per = n_bays // len(categories)
    return _Face(side, normal, tuple(c for c in categories for _ in range(per)))


def _gondola(
    gid: str,
    x0: float,
    y0: float,
    n_bays: int,
    depth: float,
    a: tuple[str, ...],
    b: tuple[str, ...],
) -> _Unit:
    """A double-sided gondola running along y: side A faces -x, side B faces +x."""
    shelves = BULK_SHELVES if any(_CATEGORIES[k].bulky for k in (*a, *b)) else GONDOLA_SHELVES
    return _Unit(
        gid,
        "gondola",
        x0,
        y0,
        round(x0 + depth, 3),
        round(y0 + n_bays * BAY_M, 3),
        1.7,
        shelves,
        (_face("A", "-x", n_bays, *a), _face("B", "+x", n_bays, *b)),
    )


def _wall_unit(
    uid: str,
    kind: str,
    normal: Normal,
    start: float,
    n_bays: int,
    size: tuple[float, float],
    categories: tuple[str, ...],
) -> _Unit:
    """A single-sided unit 0.8 m deep backing onto the wall opposite its ``normal``.

    ``start`` is where the unit begins along the wall; ``size`` is the floor's width and depth.
    """
    width, depth = size
    end = round(start + n_bays * BAY_M, 3)
    d = 0.8
    x0, y0, x1, y1 = {
        "+x": (0.0, start, d, end),
        "-x": (width - d, start, width, end),
        "+y": (start, 0.0, end, d),
        "-y": (start, depth - d, end, depth),
    }[normal]
    return _Unit(
        uid, kind, x0, y0, x1, y1, 2.0, TALL_SHELVES, (_face("A", normal, n_bays, *categories),)
    )


def _counter(uid: str, x0: float, y0: float, n_bays: int, categories: tuple[str, ...]) -> _Unit:
    """A free-standing grab-and-go counter, 0.8 m deep, facing into the store (+y)."""
    return _Unit(
        uid,
        "counter",
        x0,
        y0,
        round(x0 + n_bays * BAY_M, 3),
        round(y0 + 0.8, 3),
        1.2,
        COUNTER_SHELVES,
        (_face("A", "+y", n_bays, *categories),),
    )


def _gate_area(x0: float) -> list[tuple[float, float]]:
    """A 1 m wide, 1.5 m deep gate lane at the front wall."""
    return [(x0, 0.0), (x0 + 1.0, 0.0), (x0 + 1.0, 1.5), (x0, 1.5)]


@dataclass(frozen=True)
class _Mount:
    """A ceiling camera's mounting: position, heading on the floor and downward tilt (degrees)."""

    x: float
    y: float
    z: float
    yaw: float
    pitch: float


@dataclass(frozen=True)
class _Lens:
    """The cameras' sensor, frame rate and range of focal lengths (pixels)."""

    width: int
    height: int
    fps: float
    focal: tuple[float, float]


@dataclass(frozen=True)
class _Layout:
    """Everything fixed about a template; :func:`generate_store` adds what the seed picks."""

    id: str
    name: str
    width: float
    depth: float
    gates: tuple[Gate, ...]
    units: tuple[_Unit, ...]
    mounts: tuple[_Mount, ...]
    lens: _Lens
    bay_plates: Literal["random", "fewest"]
    """How a shelf splits a bay: a random choice of the category's options, or its widest plates."""
    span_p: tuple[float, float, float]
    """Chance that a product is faced on 1, 2 or 3 adjacent plates."""


def _corner() -> _Layout:
    """About 15 m x 11 m, like the first Amazon Go: four gondolas, wall chillers, a counter."""
    size = (15.0, 11.0)
    gondolas = (
        ("G1", 2.7, ("chips",), ("candy", "nuts", "candy")),
        ("G2", 5.55, ("cookies", "crackers", "bars"), ("bakery",)),
        ("G3", 8.4, ("coffee", "coffee", "tea"), ("energy", "water", "energy")),
        ("G4", 11.25, ("soda",), ("bars", "personal_care", "bakery")),
    )
    units = (
        *(_gondola(g, x, 3.8, 3, 1.0, a, b) for g, x, a, b in gondolas),
        _wall_unit(
            "F1",
            "fridge",
            "-y",
            2.7,
            8,
            size,
            ("soda", "water", "juice", "yogurt", "beer", "beer", "wine", "wine"),
        ),
        _wall_unit(
            "C1",
            "chiller",
            "-x",
            3.2,
            4,
            size,
            ("sandwiches", "sandwiches", "salads", "fruit"),
        ),
        _wall_unit(
            "C2",
            "chiller",
            "+x",
            3.2,
            4,
            size,
            ("meal_kits", "desserts", "deli", "yogurt"),
        ),
        _counter("K1", 6.3, 1.0, 2, ("ready_meals",)),
    )
    z = 3.2
    # On the walls, over the whole floor and both gates; then above each of the five aisles
    # looking along it from both ends (ADR 21): from the walls alone, a shopper crouching at a
    # bottom shelf was in view of one camera half the time, and one camera cannot tell how far
    # along its rays they are.
    aisles = (1.75, 4.625, 7.475, 10.325, 13.225)
    mounts = (
        _Mount(0.5, 0.5, z, 36, 30),
        _Mount(14.5, 0.5, z, 144, 30),
        _Mount(0.5, 10.5, z, -36, 30),
        _Mount(14.5, 10.5, z, -144, 30),
        _Mount(7.5, 0.4, z, 90, 40),
        _Mount(7.5, 10.6, z, -90, 40),
        _Mount(0.4, 5.5, z, 0, 40),
        _Mount(14.6, 5.5, z, 180, 40),
        *(_Mount(x, y, z, yaw, 35) for x in aisles for y, yaw in ((2.6, 90), (8.6, -90))),
    )
    return _Layout(
        "corner",
        "Walkout Corner",
        *size,
        (
            Gate(id="entry-1", kind="entry", area=_gate_area(1.5)),
            Gate(id="exit-1", kind="exit", area=_gate_area(12.5)),
        ),
        units,
        mounts,
        _Lens(1280, 720, 15.0, (600.0, 660.0)),
        "random",
        (0.62, 0.27, 0.11),
    )


def _grocery() -> _Layout:
    """About 40 m x 24 m: two blocks of gondolas, chillers, freezers and a dairy wall."""
    size = (40.0, 24.0)
    aisles: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
        (("bakery",), ("cereal",)),
        (("cereal",), ("bars", "bars", "tea", "tea")),
        (("coffee",), ("pasta",)),
        (("rice_grains",), ("canned",)),
        (("canned", "canned", "baking", "baking"), ("condiments",)),
        (("condiments",), ("spices", "spices", "crackers", "crackers")),
        (("chips",), ("candy",)),
        (("chips", "chips", "nuts", "nuts"), ("cookies",)),
        (("soda",), ("soda",)),
        (("water", "water", "energy", "energy"), ("energy", "energy", "juice", "juice")),
        (("paper",), ("cleaning",)),
        (("cleaning", "cleaning", "baking", "baking"), ("personal_care",)),
        (("personal_care",), ("baby",)),
        (("pet",), ("candy", "candy", "bars", "bars")),
        (("beer",), ("beer",)),
        (("wine",), ("spirits",)),
    )
    xs = [round(2.7 + i * 4.5, 3) for i in range(8)]
    units = [
        _gondola(f"G{i + 1}", xs[i % 8], 6.0 if i < 8 else 13.5, 4, 1.1, a, b)
        for i, (a, b) in enumerate(aisles)
    ]
    units += [
        _wall_unit(
            "C1",
            "chiller",
            "+x",
            5.0,
            12,
            size,
            ("produce", "produce", "salads", "sandwiches", "deli", "deli"),
        ),
        _wall_unit(
            "Z1",
            "freezer",
            "-x",
            5.0,
            12,
            size,
            ("frozen_meals", "frozen_sides", "ice_cream"),
        ),
        _wall_unit(
            "F1",
            "fridge",
            "-y",
            5.6,
            24,
            size,
            ("milk", "milk", "yogurt", "cheese", "butter_eggs", "meat", "meat", "juice"),
        ),
        _counter("K1", 14.8, 1.2, 2, ("ready_meals", "meal_kits")),
        _counter("K2", 22.8, 1.2, 2, ("desserts", "fruit")),
    ]
    # Above every aisle and the outer walkways: from the front, both ways from the cross aisle,
    # both ways from the back walkway (the dairy wall behind).
    columns = (1.75, *(5.5 + 4.5 * i for i in range(7)), 37.25)
    views = ((2.0, 90.0), (12.15, -90.0), (12.15, 90.0), (20.8, -90.0), (20.8, 90.0))
    mounts = [_Mount(x, y, 3.4, yaw, 35.0) for y, yaw in views for x in columns]
    return _Layout(
        "grocery",
        "Walkout Grocery",
        *size,
        tuple(
            Gate(id=gid, kind="entry" if gid.startswith("entry") else "exit", area=_gate_area(x))
            for gid, x in (("entry-1", 2.0), ("entry-2", 4.5), ("exit-1", 34.5), ("exit-2", 37.0))
        ),
        tuple(units),
        tuple(mounts),
        _Lens(1920, 1080, 12.0, (900.0, 1000.0)),
        "fewest",
        (0.45, 0.35, 0.2),
    )


# --- planogram -------------------------------------------------------------------------------


class _Pool:
    """The products of one category not yet faced, in planogram order."""

    def __init__(self, key: str, items: list[_Item]) -> None:
        self.key = key
        self.items = items
        self.pos = 0

    def take(self) -> _Item:
        if self.pos >= len(self.items):
            raise ValueError(f"the catalogue has too few {self.key!r} products for this layout")
        self.pos += 1
        return self.items[self.pos - 1]

    def peek(self) -> _Item | None:
        return self.items[self.pos] if self.pos < len(self.items) else None

    def take_unlike(self, weight_g: float) -> _Item | None:
        """The next product whose weight differs from ``weight_g`` by at least MIXED_RATIO."""
        for i in range(self.pos, len(self.items)):
            w = self.items[i].product.weight_g
            if max(w, weight_g) >= MIXED_RATIO * min(w, weight_g):
                return self.items.pop(i)
        return None


@dataclass
class _Planogram:
    """Products and facings in the order they were placed."""

    products: list[Product]
    facings: list[Facing]

    def place(self, item: _Item, plates: list[Plate], lane: Box | None = None) -> None:
        self.products.append(item.product)
        self.facings.append(Facing(sku=item.product.sku, plates=[p.id for p in plates], box=lane))


def _lanes(plate: Plate, run_axis: int) -> tuple[Box, Box]:
    """A plate's box split in two along its shelf's run: the lanes of two products side by
    side on it, the first in the lower half."""
    lo, hi = plate.box
    mid = round((lo[run_axis] + hi[run_axis]) / 2, 3)
    first_hi, second_lo = list(hi), list(lo)
    first_hi[run_axis] = second_lo[run_axis] = mid
    return (lo, _point3(first_hi)), (_point3(second_lo), hi)


def _point3(p: list[float]) -> tuple[float, float, float]:
    return (p[0], p[1], p[2])


def _fill_shelf(
    plates: list[Plate],
    run_axis: int,
    pool: _Pool,
    span_p: tuple[float, float, float],
    gram: _Planogram,
    rng: np.random.Generator,
) -> None:
    """Face products of ``pool`` on a run of adjacent plates, left to right; two products on
    one plate stand side by side, each in its lane (half the plate along ``run_axis``)."""
    i = 0
    while i < len(plates):
        item = pool.take()
        nxt = pool.peek()
        if nxt is not None and nxt.family == item.family and rng.random() < SHARE_P:
            first, second = _lanes(plates[i], run_axis)
            gram.place(item, [plates[i]], first)
            gram.place(pool.take(), [plates[i]], second)
            i += 1
            continue
        span = min(int(rng.choice(3, p=span_p)) + 1, len(plates) - i)
        if span == 1 and rng.random() < MIXED_P:
            other = pool.take_unlike(item.product.weight_g)
            if other is not None:
                first, second = _lanes(plates[i], run_axis)
                gram.place(item, [plates[i]], first)
                gram.place(other, [plates[i]], second)
                i += 1
                continue
        gram.place(item, plates[i : i + span])
        i += span


def _box(
    unit: _Unit, normal: Normal, run: tuple[float, float], z: tuple[float, float]
) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """The box over a shelf: ``run`` along the unit, REACH_M deep from the face, heights ``z``."""
    depth = {
        "-x": (unit.x0, unit.x0 + REACH_M),
        "+x": (unit.x1 - REACH_M, unit.x1),
        "-y": (unit.y0, unit.y0 + REACH_M),
        "+y": (unit.y1 - REACH_M, unit.y1),
    }[normal]
    (x0, x1), (y0, y1) = (depth, run) if unit.along_y else (run, depth)
    return (
        (round(x0, 3), round(y0, 3), round(z[0], 3)),
        (round(x1, 3), round(y1, 3), round(z[1], 3)),
    )


def _build_unit(
    unit: _Unit,
    layout: _Layout,
    pools: dict[str, _Pool],
    gram: _Planogram,
    rng: np.random.Generator,
) -> list[Plate]:
    """The plates of every face and shelf of a unit, with products faced on them."""
    start = unit.y0 if unit.along_y else unit.x0
    tops = [*(h - SHELF_GAP_M for h in unit.shelves[1:]), unit.shelves[-1] + TOP_REACH_M]
    plates: list[Plate] = []
    for face in unit.faces:
        for s, (z0, z1) in enumerate(zip(unit.shelves, tops, strict=True), start=1):
            n = 0
            for bay, key in enumerate(face.bays):
                options = _CATEGORIES[key].plates_per_bay
                count = min(options) if layout.bay_plates == "fewest" else int(rng.choice(options))
                width = BAY_M / count
                bay_plates: list[Plate] = []
                for k in range(count):
                    n += 1
                    a = start + bay * BAY_M + k * width
                    pid = f"{unit.id}-{face.side}-S{s}-P{n}"
                    box = _box(
                        unit, face.normal, (a + PLATE_GAP_M, a + width - PLATE_GAP_M), (z0, z1)
                    )
                    bay_plates.append(Plate(id=pid, box=box, hz=PLATE_HZ))
                plates += bay_plates
                run_axis = 1 if unit.along_y else 0
                _fill_shelf(bay_plates, run_axis, pools[key], layout.span_p, gram, rng)
    return plates


# --- cameras ---------------------------------------------------------------------------------


def _rotation(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """World->camera rotation (OpenCV axes) of a camera heading ``yaw`` tilted down ``pitch``."""
    yaw, pitch, roll = np.radians([yaw_deg, pitch_deg, roll_deg])
    forward = np.array([np.cos(pitch) * np.cos(yaw), np.cos(pitch) * np.sin(yaw), -np.sin(pitch)])
    right = np.array([np.sin(yaw), -np.cos(yaw), 0.0])
    down = np.cross(forward, right)
    c, s = np.cos(roll), np.sin(roll)
    rot: np.ndarray = np.stack([c * right + s * down, -s * right + c * down, forward])
    return rot


def _camera(cid: str, mount: _Mount, lens: _Lens, rng: np.random.Generator) -> Camera:
    """A calibrated camera at ``mount``, with small mounting errors and a mild wide-angle lens."""
    centre = np.array([mount.x, mount.y, mount.z]) + rng.normal(0.0, 0.02, 3)
    r = _rotation(
        mount.yaw + rng.normal(0.0, 1.0),
        mount.pitch + rng.normal(0.0, 1.0),
        rng.normal(0.0, 0.5),
    )
    r = np.round(r, 6)
    f = round(float(rng.uniform(*lens.focal)), 2)
    cx = round(lens.width / 2 + float(rng.normal(0.0, 4.0)), 2)
    cy = round(lens.height / 2 + float(rng.normal(0.0, 4.0)), 2)
    k1 = float(rng.uniform(-0.1, 0.05))
    # k2 >= 0.45·k1² keeps the radial distortion monotonic, so no far point folds into the image.
    k2 = k1 * k1 * float(rng.uniform(0.6, 1.2))
    p1, p2 = rng.normal(0.0, 3e-4, 2)
    t = -(r @ centre)
    return Camera(
        id=cid,
        width=lens.width,
        height=lens.height,
        fps=lens.fps,
        K=((f, 0.0, cx), (0.0, f, cy), (0.0, 0.0, 1.0)),
        dist=[float(f"{v:.4g}") for v in (k1, k2, float(p1), float(p2), 0.0)],
        R=(
            (float(r[0, 0]), float(r[0, 1]), float(r[0, 2])),
            (float(r[1, 0]), float(r[1, 1]), float(r[1, 2])),
            (float(r[2, 0]), float(r[2, 1]), float(r[2, 2])),
        ),
        t=(round(float(t[0]), 4), round(float(t[1]), 4), round(float(t[2]), 4)),
    )


# --- the store -------------------------------------------------------------------------------

_LAYOUTS = {"corner": _corner, "grocery": _grocery}


#: One ingredient of a kit: (tag, word in the name) choices, the most fitting first.
_Ingredient = tuple[tuple[str, str], ...]

#: What a meal kit is assembled from, by a word of its name: the catalogue's kit lines.
_KIT_RECIPES: tuple[tuple[str, tuple[_Ingredient, ...]], ...] = (
    (
        "Fajita",
        (
            (("meat", "Chicken Breasts"), ("meat", "Chicken"), ("deli", "Turkey")),
            (("bakery", "Flour Tortillas"), ("bakery", "Tortillas")),
            (("pantry", "Salsa"), ("deli", "Guacamole")),
            (("cheese", "Mexican"), ("cheese", "Cheddar")),
        ),
    ),
    (
        "Scampi",
        (
            (("pantry", "Linguine"), ("pantry", "Spaghetti"), ("bakery", "Sourdough")),
            (("dairy", "Butter"),),
            (("cheese", "Parmesan"),),
        ),
    ),
    (
        "Stir Fry",
        (
            (("meat", "Beef"), ("deli", "Roast Beef")),
            (("produce", "Broccoli"), ("produce", "Snap Peas"), ("frozen", "Broccoli")),
            (("pantry", "Jasmine"), ("pantry", "Rice")),
        ),
    ),
    (
        "Risotto",
        (
            (("pantry", "Arborio"), ("pantry", "Rice")),
            (("cheese", "Parmesan"),),
            (("produce", "Mushrooms"), ("produce", "Spinach")),
        ),
    ),
    (
        "Teriyaki",
        (
            (("meat", "Salmon"), ("pantry", "Salmon")),
            (("pantry", "Jasmine"), ("pantry", "Rice")),
            (("produce", "Broccoli"), ("produce", "Snap Peas")),
        ),
    ),
    (
        "Pesto",
        (
            (("pantry", "Penne"), ("pantry", "Fusilli"), ("pantry", "Spaghetti")),
            (("pantry", "Basil Pesto"), ("pantry", "Pesto")),
            (("cheese", "Parmesan"),),
        ),
    ),
    (
        "Carbonara",
        (
            (("pantry", "Spaghetti"), ("pantry", "Linguine")),
            (("meat", "Bacon"), ("deli", "Ham")),
            (("dairy", "Eggs"),),
            (("cheese", "Parmesan"),),
        ),
    ),
    (
        "Primavera",
        (
            (("pantry", "Penne"), ("pantry", "Rigatoni")),
            (("produce", "Broccoli"), ("produce", "Carrots"), ("produce", "Snap Peas")),
            (("pantry", "Tomato Basil"), ("pantry", "Marinara")),
        ),
    ),
)
#: A kit none of whose own ingredients the store sells (a small shop) is a supper of what is
#: on its shelves: bread, sliced deli meat, fruit.
_KIT_FALLBACK: tuple[_Ingredient, ...] = (
    (("bakery", "Bread"), ("bakery", "Tortillas")),
    (("deli", "Sliced"),),
    (("produce", "Salad Mix"), ("fruit", "Whole")),
)


def _ingredient(products: list[Product], choices: _Ingredient) -> Product | None:
    """The first product of the assortment that fits the first choice any product fits."""
    for tag, word in choices:
        pattern = re.compile(rf"\b{re.escape(word)}\b")
        for product in products:
            if tag in product.tags and pattern.search(product.name):
                return product
    return None


def _with_kit_components(products: list[Product]) -> list[Product]:
    """``products`` with each meal kit made of products the store sells, after its recipe.

    A pure function of the assortment, applied after every random draw: the same seed gives
    the same products, plates, planogram and cameras as before kits had components, so
    simulations do not change. Each ingredient is one unit of the first product that fits it;
    one the store does not sell is left out.
    """
    shelf = [
        p
        for p in products
        if "meal-kit" not in p.tags and not p.age_restricted and "ready-meal" not in p.tags
    ]
    found: list[Product] = []
    for product in products:
        if "meal-kit" not in product.tags:
            found.append(product)
            continue
        recipe = next((r for word, r in _KIT_RECIPES if word in product.name), ())
        parts = [p for i in recipe if (p := _ingredient(shelf, i)) is not None]
        if not parts:
            parts = [p for i in _KIT_FALLBACK if (p := _ingredient(shelf, i)) is not None]
        components = [Component(sku=sku, qty=1) for sku in dict.fromkeys(p.sku for p in parts)]
        found.append(product.model_copy(update={"components": components}))
    return found


def generate_store(template: Template, seed: int = 0) -> Store:
    """A complete, validated store of the given template; the same seed gives the same store."""
    if template not in _LAYOUTS:
        raise ValueError(f"unknown store template {template!r}: use one of {TEMPLATES}")
    layout = _LAYOUTS[template]()
    rng = np.random.default_rng(seed)
    keys = sorted({key for unit in layout.units for face in unit.faces for key in face.bays})
    pools = {key: _Pool(key, items) for key, items in _product_pools(keys, rng).items()}
    gram = _Planogram([], [])
    plates = [p for unit in layout.units for p in _build_unit(unit, layout, pools, gram, rng)]
    cameras = [
        _camera(f"cam-{i + 1:02d}", mount, layout.lens, rng)
        for i, mount in enumerate(layout.mounts)
    ]
    w, d = layout.width, layout.depth
    return Store(
        version=1,
        id=layout.id,
        name=layout.name,
        currency="USD",
        floor=[(0.0, 0.0), (w, 0.0), (w, d), (0.0, d)],
        gates=list(layout.gates),
        products=_with_kit_components(gram.products),
        plates=plates,
        facings=gram.facings,
        cameras=cameras,
        fixtures=[unit.fixture() for unit in layout.units],
    )
