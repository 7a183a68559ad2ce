"""Writes tiny-stories.jsonl: 300 short, simple stories composed from the hand-written pieces below.

Every sentence fragment here was written for this project; the output is original and dedicated to the
public domain (CC0). Deterministic: the same script always writes the same file.
"""
import json
import random

NAMES = [
    ("Mia", "she", "her"), ("Leo", "he", "his"), ("Sam", "he", "his"), ("Ava", "she", "her"), ("Ben", "he", "his"),
    ("Lily", "she", "her"), ("Tom", "he", "his"), ("Zoe", "she", "her"), ("Max", "he", "his"), ("Ruby", "she", "her"),
    ("Omar", "he", "his"), ("Nina", "she", "her"), ("Finn", "he", "his"), ("Ella", "she", "her"), ("Jack", "he", "his"),
    ("Rosa", "she", "her"), ("Theo", "he", "his"), ("Ivy", "she", "her"), ("Kai", "he", "his"), ("Lucy", "she", "her"),
]
ANIMALS = [
    ("a little rabbit", "Pip"), ("an old dog", "Rufus"), ("a small cat", "Mittens"), ("a shy fox", "Rusty"),
    ("a young duck", "Dot"), ("a brown bear", "Bruno"), ("a tiny mouse", "Squeak"), ("a kind cow", "Daisy"),
    ("a busy squirrel", "Nutmeg"), ("a green frog", "Hops"), ("a sleepy owl", "Hoot"), ("a happy pig", "Pinky"),
]
PLACES = [
    "the park", "the garden", "the beach", "the forest", "the farm", "the little town", "the big hill",
    "the river bank", "the school yard", "the old barn", "the quiet lake", "the sunny meadow",
]
OBJECTS = [
    ("a red ball", "the ball"), ("a blue kite", "the kite"), ("a shiny key", "the key"), ("a yellow hat", "the hat"),
    ("a small boat", "the boat"), ("a soft blanket", "the blanket"), ("a wooden box", "the box"),
    ("a green apple", "the apple"), ("a silver spoon", "the spoon"), ("a picture book", "the book"),
    ("a paper crown", "the crown"), ("a warm scarf", "the scarf"),
]
WEATHER = [
    "The sun was bright and warm.", "It was a cold and windy day.", "Soft rain fell on the roofs.",
    "The sky was gray, but nobody minded.", "White snow covered everything.", "A cool breeze moved the leaves.",
    "The morning was still and quiet.", "Big clouds drifted over the hills.",
]
FEELINGS = ["happy", "sad", "worried", "excited", "brave", "curious", "tired", "proud", "scared", "calm"]
ENDINGS = [
    "That night, {p} fell asleep with a big smile.",
    "From then on, they met every week.",
    "It was the best day of the whole summer.",
    "{N} learned that asking for help is a good thing.",
    "{N} never forgot what happened that day.",
    "Everyone laughed, and the day ended well.",
    "And {p} knew that tomorrow would be a good day too.",
    "After that, {N} always shared {q} things.",
    "They walked home together as the sun went down.",
    "{N} told the whole story at dinner, and everyone listened.",
]


def lost_and_found(r):
    n, p, q = r.choice(NAMES)
    obj, the_obj = r.choice(OBJECTS)
    place = r.choice(PLACES)
    animal, pet = r.choice(ANIMALS)
    return " ".join([
        f"{n} had {obj}.", f"{p.capitalize()} took it everywhere, even to {place}.", r.choice(WEATHER),
        f"One day, {n} could not find {the_obj}.", f"{p.capitalize()} looked under the bench and behind the trees.",
        f"{p.capitalize()} felt {r.choice(['sad', 'worried', 'upset'])}.",
        f"Then {animal} named {pet} came running.", f"{pet} had {the_obj} and dropped it at {q} feet.",
        f"\"Thank you, {pet}!\" said {n}.", r.choice(ENDINGS).format(N=n, p=p, q=q),
    ])


def new_friend(r):
    (a, ap, aq), (b, bp, bq) = r.sample(NAMES, 2)
    place = r.choice(PLACES)
    obj, the_obj = r.choice(OBJECTS)
    return " ".join([
        f"{a} went to {place} alone.", r.choice(WEATHER), f"{ap.capitalize()} saw {b} sitting alone on the grass.",
        f"{b} looked {r.choice(['sad', 'lonely', 'shy'])}.", f"{a} walked over and said, \"Hello! Do you want to play?\"",
        f"{b} smiled and nodded.", f"They played with {obj} until lunch time.",
        f"When {the_obj} rolled away, they chased it together and laughed.",
        f"{a} and {b} became good friends.", r.choice(ENDINGS).format(N=a, p=ap, q=aq),
    ])


def animal_problem(r):
    animal, pet = r.choice(ANIMALS)
    (helper, helper_name), place = r.choice([x for x in ANIMALS if x[1] != pet]), r.choice(PLACES)
    want = r.choice(["some food for winter", "a dry place to sleep", "the way back home", "a friend to play with", "a warm spot in the sun"])
    return " ".join([
        f"Once upon a time, there was {animal} called {pet}.", f"{pet} lived near {place}.", r.choice(WEATHER),
        f"One morning, {pet} needed {want}.", f"{pet} looked and looked, but found nothing.",
        f"{pet} felt {r.choice(['tired', 'sad', 'worried'])} and sat down.",
        f"Just then, {helper} named {helper_name} came by.", f"\"What is wrong?\" asked {helper_name}.",
        f"{pet} told {helper_name} everything.", f"\"I can help you,\" said {helper_name}.",
        f"Together they found {want}.", f"{pet} was very {r.choice(['happy', 'thankful', 'glad'])}.",
    ])


def learning(r):
    n, p, q = r.choice(NAMES)
    skill, step, done = r.choice([
        ("ride a bike", "wobbled and fell on the grass", "rode all the way to the gate"),
        ("swim", "splashed and swallowed some water", "swam across the little pool"),
        ("bake bread", "made the dough too sticky", "pulled a golden loaf from the oven"),
        ("draw a horse", "drew legs that were far too long", "drew a horse that looked ready to run"),
        ("tie {q} shoes", "made a knot that would not hold", "tied a neat bow"),
        ("read a long book", "got stuck on the hard words", "read the last page out loud"),
        ("plant a garden", "forgot to water the seeds", "saw the first green shoots"),
        ("play the drum", "played much too loud", "played a steady, happy beat"),
    ])
    helper = r.choice(["{q} mom", "{q} dad", "{q} grandma", "{q} grandpa", "{q} big sister", "{q} teacher", "{q} uncle"]).format(q=q)
    return " ".join([
        f"{n} wanted to {skill.format(q=q)}.", f"The first time, {p} {step}.", f"{n} felt {r.choice(['sad', 'cross', 'silly'])}.",
        f"{helper.capitalize()} said, \"Everyone starts somewhere. Try again.\"", f"So {n} tried again, and again.",
        f"Each time, it was a little easier.", f"At last, {p} {done}.", f"{n} felt very {r.choice(['proud', 'happy', 'brave'])}.",
        r.choice(ENDINGS).format(N=n, p=p, q=q),
    ])


def weather_day(r):
    n, p, q = r.choice(NAMES)
    kind, act, finish = r.choice([
        ("rain", "put on {q} boots and jumped in every puddle", "came home wet and laughing"),
        ("snow", "built a snowman with a carrot nose", "drank warm milk by the fire"),
        ("wind", "flew a kite high above the trees", "watched the kite dance until dark"),
        ("sun", "had a picnic under a big tree", "ate cold watermelon on the steps"),
        ("fog", "walked slowly and listened to the birds", "found the way home by the bell of the church"),
    ])
    friend = r.choice(ANIMALS)[0]
    return " ".join([
        f"When {n} woke up, there was {kind} outside.", f"{p.capitalize()} ran to the window and looked out.",
        f"\"Today will be fun,\" {p} said.", f"{n} {act.format(q=q)}.", f"On the way, {p} met {friend}.",
        f"It followed {n} for a while and then went home.", f"In the evening, {n} {finish}.",
        r.choice(ENDINGS).format(N=n, p=p, q=q),
    ])


def sharing(r):
    (a, ap, aq), (b, bp, bq) = r.sample(NAMES, 2)
    food = r.choice(["cookies", "grapes", "cherries", "little cakes", "strawberries", "crackers", "plums", "sandwiches"])
    count = r.choice(["two", "three", "four", "five", "six"])
    return " ".join([
        f"{a} had {count} {food} in a bag.", f"{b} had none, because {bp} forgot {bq} lunch.",
        f"{a} thought for a moment.", f"Then {ap} opened the bag and said, \"Let us share.\"",
        f"{b} said thank you, and they ate the {food} under a tree.", r.choice(WEATHER),
        f"The next day, {b} brought a big red apple and gave half to {a}.", f"Sharing made both of them feel {r.choice(['warm', 'happy', 'good'])} inside.",
    ])


def night_sky(r):
    n, p, q = r.choice(NAMES)
    what = r.choice(["a falling star", "the round white moon", "a bright planet", "many tiny stars", "a blinking airplane"])
    return " ".join([
        f"It was late, but {n} could not sleep.", f"{p.capitalize()} went to the window.", f"Outside, {p} saw {what}.",
        f"\"What is it?\" {n} asked {q} {r.choice(['mom', 'dad', 'grandma', 'grandpa'])}.",
        f"They sat together and looked up at the sky for a long time.", f"{n} counted the stars until {q} eyes felt heavy.",
        f"{p.capitalize()} made a wish for {r.choice(['a puppy', 'a sunny day', 'a new friend', 'a big cake', 'a trip to the sea'])}.",
        r.choice(ENDINGS).format(N=n, p=p, q=q),
    ])


SHAPES = [lost_and_found, new_friend, animal_problem, learning, weather_day, sharing, night_sky]


def main():
    r = random.Random(2026)
    stories, seen = [], set()
    while len(stories) < 300:
        story = r.choice(SHAPES)(r)
        if story not in seen:
            seen.add(story)
            stories.append(story)
    with open("tiny-stories.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for story in stories:
            f.write(json.dumps({"text": story}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
